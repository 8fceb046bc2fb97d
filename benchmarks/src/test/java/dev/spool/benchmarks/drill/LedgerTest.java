package dev.spool.benchmarks.drill;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The drill's accounting on simulated histories, so a broken drill cannot report a false pass. */
class LedgerTest {
    private static Ledger acked(String... keys) {
        Ledger l = new Ledger();
        for (String k : keys) {
            l.attempt(k);
            l.acknowledge(k);
        }
        return l;
    }

    @Test
    void cleanHistoryShouldPass() {
        Ledger l = acked("a", "b", "c");
        l.deliver("a");
        l.deliver("b");
        l.deliver("c");
        DrillReport r = l.report(false, 10);
        assertEquals(new DrillReport(3, 3, 3, 0, 0, 0, 0, 0, 0, java.util.List.of(), java.util.List.of(), true), r);
    }

    @Test
    void acknowledgedButNeverDeliveredShouldFail() {
        Ledger l = acked("a", "b");
        l.deliver("a");
        DrillReport r = l.report(false, 10);
        assertEquals(1, r.lost());
        assertFalse(r.pass());
    }

    @Test
    void lossShouldBeExcusedOnlyUpToTheUnansweredPulls() {
        Ledger l = acked("a", "b");
        l.deliver("a");
        l.unansweredPull();
        assertTrue(l.report(false, 10).pass(), "one pull died in flight: one unseen message is allowed");
        Ledger two = acked("a", "b", "c");
        two.deliver("a");
        two.unansweredPull();
        assertFalse(two.report(false, 10).pass(), "two lost, one excuse");
    }

    @Test
    void theExcuseShouldBeCappedByThePullsThatCanBeInFlight() {
        Ledger l = acked("a", "b", "c");
        for (int i = 0; i < 5; i++) {
            l.unansweredPull();
        }
        DrillReport r = l.report(false, 2);
        assertEquals(2, r.unansweredPulls());
        assertFalse(r.pass());
    }

    @Test
    void aMessageDeadLetteredUnseenShouldFailWithoutCountingAsLost() {
        Ledger l = acked("a", "b");
        l.deliver("a");
        l.deadLettered("b");
        l.unansweredPull(); // no excuse for it: it is not lost, it went where no consumer saw it
        DrillReport r = l.report(false, 10);
        assertEquals(0, r.lost());
        assertEquals(1, r.deadLetteredUnseen());
        assertFalse(r.pass());
    }

    @Test
    void aMessageDeliveredAndLaterDeadLetteredShouldPass() {
        Ledger l = acked("a");
        l.deliver("a");
        l.deadLettered("a");
        assertEquals(0, l.report(false, 10).deadLetteredUnseen());
    }

    @Test
    void eachUnconfirmedPullShouldExcuseOneLossBeyondTheInFlightCap() {
        Ledger l = acked("a", "b", "c", "d");
        l.deliver("a");
        l.unansweredPull();
        l.unansweredPull();
        l.unconfirmedPull();
        l.unconfirmedPull();
        DrillReport r = l.report(false, 1);
        assertEquals(3, r.unansweredPulls(), "one unanswered (the cap) and two unconfirmed");
        assertTrue(r.pass(), "three lost, three excused");
        l.unansweredPull();
        Ledger more = acked("a", "b", "c", "d", "e");
        more.unconfirmedPull();
        assertFalse(more.report(false, 10).pass(), "five lost, one excused");
    }

    @Test
    void duplicateDeliveryShouldFail() {
        Ledger l = acked("a");
        l.deliver("a");
        l.deliver("a");
        DrillReport r = l.report(false, 10);
        assertEquals(1, r.duplicated());
        assertEquals(java.util.List.of("a"), r.duplicatedKeys());
        assertFalse(r.pass());
    }

    @Test
    void unexpectedMessageShouldFail() {
        Ledger l = acked("a");
        l.deliver("a");
        l.deliver("ghost");
        DrillReport r = l.report(false, 10);
        assertEquals(1, r.unexpected());
        assertFalse(r.pass());
    }

    @Test
    void unacknowledgedPushThatWasStoredShouldBeAllowed() {
        Ledger l = acked("a");
        l.attempt("inflight");
        l.deliver("a");
        l.deliver("inflight");
        DrillReport r = l.report(false, 10);
        assertEquals(1, r.unacknowledgedDelivered());
        assertTrue(r.pass());
    }

    @Test
    void tailCorruptionShouldReportLossWithoutFailingButStillCatchDuplicates() {
        Ledger l = acked("a", "b");
        l.deliver("a");
        assertTrue(l.report(true, 0).pass());
        assertEquals(1, l.report(true, 0).lost());
        l.deliver("a");
        assertFalse(l.report(true, 0).pass());
    }
}
