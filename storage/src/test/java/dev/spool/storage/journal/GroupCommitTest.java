package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Fsync;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.SettleResult;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
import dev.spool.storage.TakeResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.spool.storage.StoreTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pulls, leases and acks under {@code fsync: always} share group commits, as pushes do (defect 7). */
@Timeout(30)
class GroupCommitTest {
    @TempDir
    Path dir;

    private JournalQueueStore openAlways(StoreConfig.SyncDelay delay) {
        return JournalQueueStore.open(StoreTestSupport.config(dir).withFsync(Fsync.ALWAYS, Duration.ofMillis(5))
                .withSyncDelay(delay));
    }

    private static void fill(JournalQueueStore s, int n) {
        List<byte[]> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            batch.add(bytes("m" + i));
        }
        Blocking.pushBatch(s, "q", batch);
    }

    @Test
    void aTakeOfManyMessagesShouldSyncOnceNotOncePerMessage() {
        try (JournalQueueStore s = openAlways(StoreConfig.SyncDelay.NONE)) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            fill(s, 100);
            long before = s.syncCount("q");
            TakeResult.Taken t = (TakeResult.Taken) Blocking.pullBatch(s, "q", 100);
            assertEquals(100, t.messages().size());
            assertEquals(1, s.syncCount("q") - before, "one sync covers the whole take");
        }
    }

    @Test
    void concurrentTakesLeasesAndAcksShouldShareSyncs() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean armed = new AtomicBoolean();
        try (JournalQueueStore s = openAlways(() -> {
            try {
                if (armed.get()) {
                    release.await();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            armed.set(true);
            CompletableFuture<PushResult> pushed = s.append("q", List.of(bytes("a"), bytes("b"), bytes("c"),
                    bytes("d")), null).toCompletableFuture();
            // The syncer is held in its first sync: the take waits for the next one, holding no caller thread.
            CompletableFuture<TakeResult> take = s.take("q", 1).toCompletableFuture();
            CompletableFuture<LeaseResult> lease = s.lease("q", 2, Duration.ofMinutes(1)).toCompletableFuture();
            assertFalse(take.isDone(), "a take is answered once its cursor move is synced");
            assertTrue(lease.isDone(), "a lease changes nothing a power cut must keep: it waits for no sync");
            List<Leased> leased = ((LeaseResult.Granted) lease.join()).messages();
            CompletableFuture<SettleResult> ack = s.settle("q", Settlement.ACK, List.of(leased.get(0).lease(),
                    leased.get(1).lease()), Duration.ZERO).toCompletableFuture();
            assertFalse(ack.isDone(), "an ack is answered once synced");
            release.countDown();
            armed.set(false);
            pushed.join();
            take.join();
            assertEquals(2, ((SettleResult.Settled) ack.join()).accepted());
            long syncs = s.syncCount("q");
            assertTrue(syncs <= 2, "a push, a take and an ack shared " + syncs + " syncs");
        }
    }
}
