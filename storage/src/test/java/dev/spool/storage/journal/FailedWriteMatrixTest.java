package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.CreateResult;
import dev.spool.storage.Fsync;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.MutableClock;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every write path through a failed write or sync (EIO-like, from the fault seam): the workload runs with the n-th
 * pass of one point failing, the store is reopened, and the contract is checked (see {@link FaultLedger}).
 */
@Timeout(120)
class FailedWriteMatrixTest {
    private static final int STEPS = 120;

    @TempDir
    Path dir;

    record Case(Faults.Point point, Fsync fsync, int nth) {
        @Override
        public String toString() {
            return point + " (pass " + nth + ", fsync " + fsync.name().toLowerCase() + ")";
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case(Faults.Point.JOURNAL_APPEND, Fsync.NONE, 5),
                new Case(Faults.Point.BATCH_APPEND, Fsync.NONE, 2),
                new Case(Faults.Point.HEAD_WRITE, Fsync.NONE, 4),
                new Case(Faults.Point.CURSOR_WRITE, Fsync.NONE, 1),
                new Case(Faults.Point.CURSOR_WRITE, Fsync.NONE, 3),
                new Case(Faults.Point.STATE_ENTRY, Fsync.NONE, 2),
                new Case(Faults.Point.STATE_ENTRY, Fsync.NONE, 6),
                new Case(Faults.Point.SNAPSHOT, Fsync.NONE, 1),
                new Case(Faults.Point.CHECKPOINT, Fsync.NONE, 1),
                new Case(Faults.Point.ID_RESERVATION, Fsync.NONE, 1),
                new Case(Faults.Point.DEAD_LETTER_MOVE, Fsync.NONE, 1),
                new Case(Faults.Point.JOURNAL_SYNC, Fsync.ALWAYS, 3),
                new Case(Faults.Point.CURSOR_SYNC, Fsync.ALWAYS, 2),
                new Case(Faults.Point.STATE_SYNC, Fsync.ALWAYS, 2),
                new Case(Faults.Point.JOURNAL_SYNC, Fsync.INTERVAL, 3));
    }

    @Test
    void aCreateThatFailsAfterItsFolderIsInPlaceShouldLeaveNothingBehind() {
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(dir))) {
            Faults.fail(Faults.Point.ID_RESERVATION, 1); // passed while the new queue is opened
            assertThrows(StoreException.class, () -> s.create("q", QueueOptions.ofMaxLength(10)));
            assertFalse(s.list().contains("q"));
            assertEquals(CreateResult.CREATED, s.create("q", QueueOptions.ofMaxLength(10)), "the name is free again");
            assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "q", "m".getBytes(StandardCharsets.UTF_8)));
        }
    }

    @AfterEach
    void disarm() {
        Faults.clear();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theContractShouldHoldWhenAWritePathFails(Case c) {
        MutableClock clock = new MutableClock(Instant.parse("2026-12-01T00:00:00Z"));
        StoreConfig config = StoreTestSupport.config(dir).withRollCycle(JournalRollCycle.HOURLY, clock)
                .withFsync(c.fsync(), Duration.ofMillis(2)).withIdempotencyWindow(Duration.ofHours(1));
        FaultLedger ledger = new FaultLedger();
        try (JournalQueueStore s = JournalQueueStore.open(config)) {
            s.create(FaultWorkload.QUEUE, new QueueOptions(1_000_000, null, 2, null));
            FaultWorkload w = new FaultWorkload(s, ledger, s::checkpoint, clock::advance);
            Faults.fail(c.point(), c.nth());
            for (int i = 0; i < STEPS; i++) {
                w.step(i);
                s.awaitStoreThread();
            }
        }
        // (The id reservation is written at a clean stop too: the close above passes that point.)
        assertFalse(Faults.armed(c.point()), c.point() + " was never passed: the workload does not reach it");
        Faults.clear();
        FaultLedger.Restart r;
        try (JournalQueueStore s = JournalQueueStore.open(config)) {
            r = ledger.checkRestart(s);
        }
        System.out.println("FAULT-TABLE | " + c + " | " + ledger.toldLine() + " | " + ledger.stored.size()
                + " acknowledged pushes, " + ledger.consumed.size() + " consumed; " + r.summary() + "; contract held");
    }
}
