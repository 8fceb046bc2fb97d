package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Fsync;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStats;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sync that fails under {@code fsync: always} (EIO, or ENOSPC reported by fsync): nothing whose pull failed is
 * lost, a push is told its outcome is unknown (never "not stored"), and the queue takes no changes until a
 * restart re-checks it, saying so in its stats and the store's list of failed queues.
 */
@Timeout(60)
class FailedSyncTest {
    @TempDir
    Path dir;

    @AfterEach
    void disarm() {
        Faults.clear();
    }

    private JournalQueueStore open() {
        return JournalQueueStore.open(StoreTestSupport.config(dir).withFsync(Fsync.ALWAYS, StoreConfig.DEFAULT_FSYNC_INTERVAL)
                .withIdempotencyWindow(Duration.ofHours(1)));
    }

    private static StoreException.Code failure(Runnable call) {
        return assertThrows(StoreException.class, call::run).code();
    }

    @Test
    void aPullWhoseSyncFailsShouldBeDeliveredAgainAfterTheRestart() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(100));
            for (String m : List.of("a", "b", "c")) {
                Blocking.push(s, "q", bytes(m));
            }
            assertEquals("a", text(Blocking.pull(s, "q")));
            Faults.fail(Faults.Point.CURSOR_SYNC, 1);
            assertEquals(StoreException.Code.SYNC_FAILED, failure(() -> Blocking.pull(s, "q")));
        }
        try (JournalQueueStore s = open()) {
            assertEquals("b", text(Blocking.pull(s, "q")), "the pull that failed lost nothing");
            assertEquals("c", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }

    @Test
    void anAckWhoseSyncFailsShouldBeDeliveredAgainAfterTheRestart() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(100));
            Blocking.push(s, "q", bytes("a"));
            Blocking.push(s, "q", bytes("b"));
            List<Leased> leased = ((LeaseResult.Granted) Blocking.lease(s, "q", 2, Duration.ofMinutes(5))).messages();
            Faults.fail(Faults.Point.STATE_SYNC, 1);
            // b is above the floor (a is still leased): its ack goes to the state log, whose sync fails.
            assertEquals(StoreException.Code.SYNC_FAILED,
                    failure(() -> Blocking.ack(s, "q", List.of(leased.get(1).lease()))));
        }
        try (JournalQueueStore s = open()) {
            List<String> again = new ArrayList<>();
            for (Leased l : ((LeaseResult.Granted) Blocking.lease(s, "q", 10, Duration.ofMinutes(5))).messages()) {
                again.add(new String(l.payload(), java.nio.charset.StandardCharsets.UTF_8));
            }
            assertEquals(List.of("a", "b"), again, "the ack that failed was undone");
        }
    }

    @Test
    void aPushWhoseSyncFailsShouldBeToldItsOutcomeIsUnknownAndAKeyedRetryStoresItOnce() {
        long firstId;
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(100));
            Faults.fail(Faults.Point.JOURNAL_SYNC, 1);
            assertEquals(StoreException.Code.SYNC_FAILED, failure(() -> Blocking.pushBatch(s, "q",
                    List.of(bytes("x")), Arrays.asList("key-1"))));
            firstId = 1;
        }
        try (JournalQueueStore s = open()) {
            PushResult.Stored retry = (PushResult.Stored) Blocking.pushBatch(s, "q", List.of(bytes("x")),
                    Arrays.asList("key-1"));
            assertEquals(firstId, retry.id(0), "the message the unknown push stored is the one the retry names");
            assertEquals(1, retry.duplicates());
            assertEquals("x", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"), "stored once");
        }
    }

    @Test
    void aQueueWhoseSyncFailedShouldRefuseChangesAndSaySoUntilTheRestart() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(100));
            s.create("other", QueueOptions.ofMaxLength(100));
            Faults.fail(Faults.Point.JOURNAL_SYNC, 1);
            assertEquals(StoreException.Code.SYNC_FAILED, failure(() -> Blocking.push(s, "q", bytes("x"))));
            assertEquals(StoreException.Code.QUEUE_FAILED, failure(() -> Blocking.push(s, "q", bytes("y"))));
            assertEquals(StoreException.Code.QUEUE_FAILED, failure(() -> Blocking.pull(s, "q")));
            assertEquals(StoreException.Code.QUEUE_FAILED,
                    failure(() -> Blocking.lease(s, "q", 1, Duration.ofSeconds(30))));
            QueueStats stats = Blocking.stats(s, "q").orElseThrow();
            assertNotNull(stats.failure());
            assertTrue(stats.failure().contains("sync"), stats.failure());
            assertEquals(List.of("q"), List.copyOf(s.failedQueues().keySet()));
            assertNull(Blocking.stats(s, "other").orElseThrow().failure(), "other queues go on");
            assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "other", bytes("z")));
        }
        try (JournalQueueStore s = open()) {
            assertTrue(s.failedQueues().isEmpty(), "a restart re-checks the files");
            assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "q", bytes("after")));
        }
    }
}
