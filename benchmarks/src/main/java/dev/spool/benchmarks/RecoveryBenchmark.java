package dev.spool.benchmarks;

import dev.spool.storage.journal.JournalQueueStore;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStats;
import dev.spool.storage.StoreConfig;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Time to reopen a store whose queue holds {@code backlog} unconsumed messages and read its depth. */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
@State(Scope.Benchmark)
public class RecoveryBenchmark {
    @Param({"10000000"})
    long backlog;

    private Path dir;
    private StoreConfig config;

    @Setup(Level.Trial)
    public void fill() throws Exception {
        dir = BenchFiles.tempDir("spool-recovery");
        config = StoreConfig.defaults(dir.resolve("queues.json"));
        List<byte[]> batch = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            batch.add(new byte[32]);
        }
        try (JournalQueueStore s = JournalQueueStore.open(config)) {
            s.create("q", QueueOptions.ofMaxLength(Long.MAX_VALUE));
            for (long i = 0; i < backlog / 1000; i++) {
                s.append("q", batch, null).toCompletableFuture().join();
            }
            s.take("q", 1).toCompletableFuture().join();
        }
    }

    @TearDown(Level.Trial)
    public void delete() throws Exception {
        BenchFiles.delete(dir);
    }

    @Benchmark
    public long reopen() {
        try (JournalQueueStore s = JournalQueueStore.open(config)) {
            long depth = ((QueueStats) s.stats("q")).depth();
            if (depth != backlog - 1) {
                throw new IllegalStateException("depth " + depth + " after recovery, expected " + (backlog - 1));
            }
            return depth;
        }
    }
}
