package dev.spool.storage.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lease state machine alone: no files, times given by hand. */
@Timeout(10)
class LeaseTableTest {
    private static final long VIS = 10_000;

    private static LeaseTable table(int maxDeliveries) {
        return new LeaseTable(0, Cursor.NO_INDEX, maxDeliveries, new Random(1)::nextLong);
    }

    /** Reads ids as a journal would (index = id * 10) and leases each at {@code now}. */
    private static List<LeaseTable.Lease> readAndLease(LeaseTable t, long now, long... ids) {
        return java.util.Arrays.stream(ids).mapToObj(id -> {
            assertTrue(t.read(id, id * 10));
            return t.lease(id, now, VIS);
        }).toList();
    }

    @Test
    void inOrderAcksShouldMoveTheFloorWithTheJournalIndex() {
        LeaseTable t = table(0);
        List<LeaseTable.Lease> l = readAndLease(t, 0, 1, 2);
        assertTrue(t.markDone(l.get(0).id), "the oldest message moves the floor");
        assertEquals(1, t.floor());
        assertEquals(10, t.floorIndex());
        assertTrue(t.markDone(l.get(1).id));
        assertEquals(2, t.floor());
        assertTrue(t.simple(), "nothing leased or read ahead any more");
    }

    @Test
    void outOfOrderAcksShouldBeHeldAboveTheFloorThenFolded() {
        LeaseTable t = table(0);
        readAndLease(t, 0, 1, 2, 3);
        assertFalse(t.markDone(3), "an ack above the floor is recorded, not folded");
        assertFalse(t.markDone(2));
        assertEquals(0, t.floor());
        assertEquals(2, t.doneCount());
        assertTrue(t.markDone(1));
        assertEquals(3, t.floor(), "1, 2 and 3 fold into the floor together");
        assertEquals(30, t.floorIndex());
        assertEquals(0, t.doneCount());
    }

    @Test
    void idsNeedNotBeConsecutive() {
        LeaseTable t = table(0);
        readAndLease(t, 0, 5, 9);
        assertFalse(t.markDone(9));
        assertTrue(t.markDone(5));
        assertEquals(9, t.floor(), "the next message after the floor is the lowest id read above it");
    }

    @Test
    void expiredLeaseShouldBecomeReadyAndItsTokenExpired() {
        LeaseTable t = table(0);
        LeaseTable.Lease l = readAndLease(t, 0, 1).get(0);
        String token = l.token();
        assertEquals(VIS, t.nextDeadline(), "the next deadline is the lease's expiry");
        assertEquals(0, t.expire(VIS - 1));
        assertEquals(1, t.expire(VIS));
        assertNull(t.find(token));
        assertEquals(LeaseTable.Refusal.EXPIRED, t.refusal(token));
        assertEquals(1, t.pollReady());
        LeaseTable.Lease again = t.lease(1, VIS, VIS);
        assertEquals(2, again.delivery);
        assertNotNull(t.find(again.token()));
    }

    @Test
    void tokensOfOtherMessagesOrGarbageShouldBeUnknown() {
        LeaseTable t = table(0);
        LeaseTable.Lease l = readAndLease(t, 0, 1).get(0);
        t.markDone(1);
        assertEquals(LeaseTable.Refusal.UNKNOWN, t.refusal(l.token()), "acknowledged already");
        assertEquals(LeaseTable.Refusal.UNKNOWN, t.refusal("garbage"));
        assertEquals(LeaseTable.Refusal.UNKNOWN, t.refusal("1.1"));
        assertNull(t.find(null));
    }

    @Test
    void aDelayedReleaseShouldComeBackWhenTheDelayEnds() {
        LeaseTable t = table(0);
        LeaseTable.Lease l = readAndLease(t, 0, 1).get(0);
        assertEquals(0, t.release(l, 100, 5_000), "not ready during the delay");
        assertEquals(-1, t.pollReady());
        assertEquals(5_100, t.nextDeadline());
        assertEquals(1, t.expire(5_100));
        assertEquals(1, t.pollReady());
    }

    @Test
    void aReleaseWithoutDelayShouldBeReadyAtOnce() {
        LeaseTable t = table(0);
        LeaseTable.Lease l = readAndLease(t, 0, 1).get(0);
        assertEquals(1, t.release(l, 0, 0));
        assertEquals(1, t.pollReady());
    }

    @Test
    void renewalShouldMoveTheExpiry() {
        LeaseTable t = table(0);
        LeaseTable.Lease l = readAndLease(t, 0, 1).get(0);
        t.renew(l, 50_000);
        assertEquals(0, t.expire(VIS));
        assertEquals(50_000, t.nextDeadline());
        assertEquals(1, t.expire(50_000));
    }

    @Test
    void aMessageLeasedMaxDeliveriesTimesShouldBecomeADeadLetter() {
        LeaseTable t = table(2);
        readAndLease(t, 0, 1);
        t.expire(VIS);
        t.lease(t.pollReady(), VIS, VIS);
        assertEquals(0, t.expire(2 * VIS), "the second expiry does not make it ready");
        assertTrue(t.hasDeadLetters());
        assertEquals(List.of(new LeaseTable.DeadLetter(1, 10, 2)), t.takeDeadLetters());
        assertFalse(t.hasDeadLetters());
        assertTrue(t.markDone(1), "once moved, it is done here");
    }

    @Test
    void aFailedDeadLetterMoveShouldLeaveTheMessageReady() {
        LeaseTable t = table(1);
        readAndLease(t, 0, 1);
        t.expire(VIS);
        t.takeDeadLetters();
        t.deadLetterFailed(1);
        assertEquals(1, t.pollReady());
    }

    @Test
    void restoredAcknowledgementsShouldBeSkippedWhenRead() {
        LeaseTable t = table(0);
        t.restore(List.of(2L, 3L), Map.of(1L, 4, 2L, 1));
        assertTrue(t.read(1, 10));
        assertEquals(5, t.lease(1, 0, VIS).delivery, "the delivery count survives");
        assertFalse(t.read(2, 20), "acknowledged before the restart: not delivered");
        assertFalse(t.read(3, 30));
        assertTrue(t.markDone(1));
        assertEquals(3, t.floor());
    }

    @Test
    void forgetAboveShouldDropAcknowledgementsOfMessagesNeverStored() {
        LeaseTable t = table(0);
        t.restore(List.of(2L, 7L), Map.of());
        t.forgetAbove(5);
        assertEquals(1, t.doneCount());
    }
}
