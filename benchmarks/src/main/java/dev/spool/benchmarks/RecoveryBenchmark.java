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

/**
 * Time to reopen a store whose queue holds {@code backlog} unconsumed messages and read its depth, with
 * {@code subscriptions} named subscriptions each at its own position (issue 22: under a second with 8 and 10 M).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
@State(Scope.Benchmark)
public class RecoveryBenchmark {
    @Param({"10000000"})
    long backlog;

    @Param({"0", "8"})
    int subscriptions;

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
            for (int k = 1; k <= subscriptions; k++) {
                s.createSubscription("q", "s" + k, new dev.spool.storage.SubscriptionSpec(
                        new dev.spool.storage.SubscriptionStart.Earliest(), null, null, false));
            }
            for (long i = 0; i < backlog / 1000; i++) {
                appendRetrying(s, batch);
            }
            s.take("q", 1).toCompletableFuture().join();
            for (int k = 1; k <= subscriptions; k++) {
                // Each at a position of its own, with leases out (acknowledgements above its floor in its log).
                s.take("q", "s" + k, k * 1000, java.time.Duration.ZERO).toCompletableFuture().join();
                s.lease("q", "s" + k, 100, java.time.Duration.ofMinutes(5), java.time.Duration.ZERO)
                        .toCompletableFuture().join();
            }
        }
    }

    /** Appends, retrying while the store answers BUSY (a fill this fast can outrun the id reservation). */
    static void appendRetrying(JournalQueueStore s, List<byte[]> batch) throws InterruptedException {
        while (true) {
            try {
                s.append("q", batch, null).toCompletableFuture().join();
                return;
            } catch (java.util.concurrent.CompletionException | dev.spool.storage.StoreException e) {
                Throwable c = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
                if (!(c instanceof dev.spool.storage.StoreException se)
                        || se.code() != dev.spool.storage.StoreException.Code.BUSY) {
                    throw e;
                }
                Thread.sleep(1);
            }
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
            for (int k = 1; k <= subscriptions; k++) {
                long b = ((dev.spool.storage.SubscriptionStats) s.subscription("q", "s" + k)).backlog();
                if (b != backlog - k * 1000L) {
                    throw new IllegalStateException("s" + k + "'s backlog " + b + " after recovery");
                }
            }
            return depth;
        }
    }
}
