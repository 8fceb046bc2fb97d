package dev.spool.benchmarks.load;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LatencySummaryTest {
    @Test
    void percentilesShouldComeFromTheHistogramNotAnAverage() {
        Histogram h = new Histogram(3);
        for (int i = 1; i <= 1000; i++) {
            h.recordValue(i * 10L); // 10 us .. 10 ms, uniform
        }
        h.recordValue(1_000_000); // one 1 s outlier
        LatencySummary s = LatencySummary.of("push", 2.0, 1001, 1001, h, Map.of(429, 3L));
        assertEquals(5.0, s.p50Ms(), 0.05);
        assertEquals(9.0, s.p90Ms(), 0.05);
        assertEquals(9.9, s.p99Ms(), 0.05);
        assertEquals(10.0, s.p999Ms(), 0.05);
        assertEquals(1000.0, s.maxMs(), 1.0);
        assertEquals(500.5, s.messagesPerSecond(), 1e-9);
        assertEquals(3, s.errorCount());
        assertTrue(s.render().contains("{429=3}"), s.render());
    }

    @Test
    void emptyHistogramShouldGiveZeros() {
        LatencySummary s = LatencySummary.of("pull", 1.0, 0, 0, new Histogram(3), Map.of());
        assertEquals(0, s.p99Ms());
        assertEquals(0, s.maxMs());
        assertTrue(s.render().contains("errors none"));
    }
}
