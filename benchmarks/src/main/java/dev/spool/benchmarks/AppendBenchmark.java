package dev.spool.benchmarks;

import dev.spool.storage.journal.JournalQueueStore;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.wire.DocumentContext;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.List;

/**
 * One thread appending messages of {@code size} bytes: through the storage port ({@code port}) and
 * straight into a Chronicle Queue with the same roll cycle ({@code raw}). The ratio port/raw is the
 * figure that matters; absolute rates vary with the machine.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
@State(Scope.Thread)
public class AppendBenchmark {
    @Param({"256", "4096"})
    int size;

    private byte[] payload;
    private Path dir;
    private JournalQueueStore store;
    private SingleChronicleQueue raw;
    private ExcerptAppender appender;

    @Setup(Level.Iteration)
    public void setUp() throws Exception {
        payload = new byte[size];
        new Random(42).nextBytes(payload);
        dir = BenchFiles.tempDir("spool-append");
        store = JournalQueueStore.open(StoreConfig.defaults(dir.resolve("port/queues.json")));
        store.create("q", QueueOptions.ofMaxLength(Long.MAX_VALUE));
        raw = SingleChronicleQueueBuilder.binary(dir.resolve("raw").toFile()).rollCycle(RollCycles.FAST_HOURLY).build();
        appender = raw.createAppender();
    }

    @TearDown(Level.Iteration)
    public void tearDown() throws Exception {
        store.close();
        appender.close();
        raw.close();
        BenchFiles.delete(dir);
    }

    @Benchmark
    public Object port() {
        return store.append("q", List.of(payload), null).toCompletableFuture().join();
    }

    @Benchmark
    public long raw() {
        try (DocumentContext dc = appender.writingDocument()) {
            dc.wire().bytes().write(payload);
        }
        return appender.lastIndexAppended();
    }
}
