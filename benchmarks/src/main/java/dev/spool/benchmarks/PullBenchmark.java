package dev.spool.benchmarks;

import dev.spool.storage.journal.JournalQueueStore;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One thread draining {@value #BACKLOG} messages of {@code size} bytes, prefilled before each
 * invocation: destructive pulls through the storage port ({@code port}, which also moves the durable
 * cursor and checks each entry's CRC) and plain tailer reads of a Chronicle Queue ({@code raw}).
 * Scores are messages per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
@State(Scope.Thread)
public class PullBenchmark {
    static final int BACKLOG = 50_000;

    @Param({"256", "4096"})
    int size;

    private Path dir;
    private JournalQueueStore store;
    private SingleChronicleQueue raw;
    private ExcerptAppender appender;
    private ExcerptTailer tailer;
    private List<byte[]> batch;

    @Setup(Level.Iteration)
    public void open() throws Exception {
        byte[] payload = new byte[size];
        new Random(42).nextBytes(payload);
        batch = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            batch.add(payload);
        }
        dir = BenchFiles.tempDir("spool-pull");
        store = JournalQueueStore.open(StoreConfig.defaults(dir.resolve("port/queues.json")));
        store.create("q", QueueOptions.ofMaxLength(Long.MAX_VALUE));
        raw = SingleChronicleQueueBuilder.binary(dir.resolve("raw").toFile()).rollCycle(RollCycles.FAST_HOURLY).build();
        appender = raw.createAppender();
        tailer = raw.createTailer();
    }

    @Setup(Level.Invocation)
    public void fill() {
        for (int i = 0; i < BACKLOG / batch.size(); i++) {
            store.append("q", batch, null).toCompletableFuture().join();
            for (byte[] p : batch) {
                try (DocumentContext dc = appender.writingDocument()) {
                    dc.wire().bytes().write(p);
                }
            }
        }
    }

    @TearDown(Level.Iteration)
    public void close() throws Exception {
        store.close();
        tailer.close();
        appender.close();
        raw.close();
        BenchFiles.delete(dir);
    }

    @Benchmark
    @OperationsPerInvocation(BACKLOG)
    public void port(Blackhole bh) {
        for (int i = 0; i < BACKLOG; i++) {
            bh.consume(store.take("q", 1).toCompletableFuture().join());
        }
    }

    @Benchmark
    @OperationsPerInvocation(BACKLOG)
    public void raw(Blackhole bh) {
        byte[] out = new byte[size];
        for (int i = 0; i < BACKLOG; i++) {
            try (DocumentContext dc = tailer.readingDocument()) {
                // Copy out, as a pull must hand the bytes to the caller.
                dc.wire().bytes().read(out);
                bh.consume(out);
            }
        }
    }
}
