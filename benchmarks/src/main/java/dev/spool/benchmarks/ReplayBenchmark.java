package dev.spool.benchmarks;

import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.SubscriptionSpec;
import dev.spool.storage.SubscriptionStart;
import dev.spool.storage.TakeResult;
import dev.spool.storage.journal.JournalQueueStore;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A replay (issue 22): a subscription that has consumed a queue of {@code backlog} messages is moved back to the
 * earliest and takes its first message again. Measured: the seek (a snapshot of its empty lease state and its cursor,
 * both forced to the disk) plus that first take; a copy would grow with the backlog, a seek does not (under 100 ms).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
@State(Scope.Benchmark)
public class ReplayBenchmark {
    @Param({"1000000"})
    long backlog;

    private Path dir;
    private JournalQueueStore store;

    @Setup(Level.Trial)
    public void fill() throws Exception {
        dir = BenchFiles.tempDir("spool-replay");
        store = JournalQueueStore.open(StoreConfig.defaults(dir.resolve("queues.json")));
        store.create("q", QueueOptions.ofMaxLength(Long.MAX_VALUE));
        store.createSubscription("q", "r", new SubscriptionSpec(new SubscriptionStart.Latest(), null, null, false));
        List<byte[]> batch = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            batch.add(new byte[300]);
        }
        for (long i = 0; i < backlog / 1000; i++) {
            RecoveryBenchmark.appendRetrying(store, batch);
        }
        while (!((TakeResult.Taken) store.take("q", "r", 10_000, Duration.ZERO).toCompletableFuture().join())
                .messages().isEmpty()) {
            // consumed to the end: the replay goes back over the whole backlog
        }
    }

    @TearDown(Level.Trial)
    public void delete() throws Exception {
        store.close();
        BenchFiles.delete(dir);
    }

    @Benchmark
    public long seekToEarliestAndTakeTheFirst() {
        store.seek("q", "r", new SubscriptionStart.Earliest());
        TakeResult.Taken t = (TakeResult.Taken) store.take("q", "r", 1, Duration.ZERO).toCompletableFuture().join();
        if (t.messages().size() != 1 || t.messages().get(0).id() != 1) {
            throw new IllegalStateException("the replay did not start at message 1: " + t.messages());
        }
        return t.messages().get(0).id();
    }
}
