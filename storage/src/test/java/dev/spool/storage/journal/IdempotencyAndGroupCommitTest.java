package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Durability;
import dev.spool.storage.Fsync;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.MutableClock;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdempotencyAndGroupCommitTest {
    @TempDir
    Path dir;
    final MutableClock clock = new MutableClock(Instant.parse("2026-11-27T12:00:00Z"));

    private JournalQueueStore open() {
        return JournalQueueStore.open(StoreTestSupport.config(dir).withRollCycle(JournalRollCycle.HOURLY, clock)
                .withIdempotencyWindow(Duration.ofMinutes(10)));
    }

    private static PushResult.Stored keyed(JournalQueueStore s, String q, String payload, String key) {
        return (PushResult.Stored) Blocking.pushBatch(s, q, List.of(bytes(payload)), Arrays.asList(key));
    }

    @Test
    void repeatedKeyShouldReturnTheOriginalIdAndStoreNothing() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            PushResult.Stored first = keyed(s, "q", "a", "k1");
            PushResult.Stored again = keyed(s, "q", "a-retry", "k1");
            assertEquals(first.id(0), again.id(0));
            assertEquals(1, again.duplicates());
            assertEquals(1, Blocking.stats(s, "q").orElseThrow().depth());
            assertEquals(2, keyed(s, "q", "b", null).id(0));
            assertEquals(2, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }

    @Test
    void batchShouldStoreOnlyMessagesWithNewKeys() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(3));
            keyed(s, "q", "a", "k1");
            PushResult.Stored r = (PushResult.Stored) Blocking.pushBatch(s, "q", List.of(bytes("a"), bytes("b"), bytes("b2"), bytes("c")),
                    Arrays.asList("k1", "k2", "k2", null));
            assertEquals(List.of(1L, 2L, 2L, 3L), List.of(r.id(0), r.id(1), r.id(2), r.id(3)));
            assertEquals(2, r.duplicates());
            assertEquals("a", text(Blocking.pull(s, "q")));
            assertEquals("b", text(Blocking.pull(s, "q")));
            assertEquals("c", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }

    @Test
    void keysShouldSurviveARestartWithAndWithoutACheckpoint() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            keyed(s, "q", "a", "before-checkpoint");
            s.checkpoint();
            keyed(s, "q", "b", "after-checkpoint");
        }
        try (JournalQueueStore s = open()) {
            assertEquals(1, keyed(s, "q", "x", "before-checkpoint").id(0));
            assertEquals(2, keyed(s, "q", "y", "after-checkpoint").id(0));
            assertEquals(2, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }

    @Test
    void keysShouldBeForgottenAfterTheWindow() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            keyed(s, "q", "a", "k");
            clock.advance(Duration.ofMinutes(11));
            assertEquals(2, keyed(s, "q", "a-again", "k").id(0));
        }
    }

    @Test
    @Timeout(120)
    void concurrentPushesShouldShareSyncsUnderAlways() throws Exception {
        StoreConfig c = StoreTestSupport.config(dir).withFsync(Fsync.ALWAYS, Duration.ofMillis(5));
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(1_000_000));
            int threads = 8;
            int each = 200;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < each; i++) {
                        PushResult.Stored r = (PushResult.Stored) Blocking.push(s, "q", bytes("x"));
                        assertEquals(Durability.DISK, r.durability());
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get(100, TimeUnit.SECONDS);
            }
            pool.shutdown();
            long syncs = s.syncCount("q");
            assertTrue(syncs > 0 && syncs < threads * each, "1600 pushes, " + syncs + " syncs");
        }
    }

    @Test
    @Timeout(60)
    void intervalPushShouldReturnOnlyAfterASyncCoversIt() {
        StoreConfig c = StoreTestSupport.config(dir).withFsync(Fsync.INTERVAL, Duration.ofMillis(20));
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            for (int i = 0; i < 5; i++) {
                long before = s.syncCount("q");
                PushResult.Stored r = (PushResult.Stored) Blocking.push(s, "q", bytes("x"));
                assertEquals(Durability.DISK, r.durability());
                assertTrue(s.syncCount("q") > before, "a sync ran between the append and the return");
            }
        }
    }
}
