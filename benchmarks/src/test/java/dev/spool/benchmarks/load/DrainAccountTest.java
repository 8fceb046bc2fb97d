package dev.spool.benchmarks.load;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class DrainAccountTest {
    private static final LatencySummary SUMMARY = LatencySummary.of("drain", 1, 1, 1, new Histogram(3), Map.of());

    @Test
    void accountShouldBeCompleteWhenEveryPushedIdCameOnceInAnyOrder() {
        DrainReport r = Drain.account(SUMMARY, new long[] {3, 1, 2}, new long[] {2, 3, 1}, 0.5, 0, false);
        assertEquals(3, r.distinct());
        assertEquals(0, r.duplicates() + r.lost() + r.unexpected());
        assertTrue(r.complete());
        assertTrue(r.render().endsWith("complete"), r.render());
    }

    @Test
    void accountShouldCountDuplicatesLostAndUnexpectedIds() {
        DrainReport r = Drain.account(SUMMARY, new long[] {1, 2, 3, 4}, new long[] {1, 2, 2, 2, 4, 9, 9}, 0.5, 0, false);
        assertEquals(7, r.delivered());
        assertEquals(4, r.distinct());
        assertEquals(3, r.duplicates());
        assertEquals(1, r.lost());
        assertEquals(1, r.unexpected());
        assertFalse(r.complete());
    }

    @Test
    void accountShouldNotBeCompleteWhenAnAckWasRejectedOrTheDrainStoppedEarly() {
        assertFalse(Drain.account(SUMMARY, new long[] {1}, new long[] {1}, 0, 1, false).complete());
        assertFalse(Drain.account(SUMMARY, new long[] {1}, new long[] {1}, 0, 0, true).complete());
    }
}
