package dev.spool.benchmarks.load;

import org.HdrHistogram.Histogram;

import java.util.Map;
import java.util.TreeMap;

/**
 * The result of one measured phase: throughput and latency percentiles from an HdrHistogram of
 * microseconds (not averages), and error counts by HTTP status ({@code 0} for I/O errors).
 */
public record LatencySummary(String mode, double seconds, long requests, long messages, double p50Ms,
                             double p90Ms, double p99Ms, double p999Ms, double maxMs, Map<Integer, Long> errors) {

    public static LatencySummary of(String mode, double seconds, long requests, long messages, Histogram micros,
                                    Map<Integer, Long> errors) {
        return new LatencySummary(mode, seconds, requests, messages, ms(micros, 50), ms(micros, 90),
                ms(micros, 99), ms(micros, 99.9), micros.getTotalCount() == 0 ? 0 : micros.getMaxValue() / 1000.0,
                new TreeMap<>(errors));
    }

    private static double ms(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1000.0;
    }

    public double messagesPerSecond() {
        return seconds <= 0 ? 0 : messages / seconds;
    }

    public double requestsPerSecond() {
        return seconds <= 0 ? 0 : requests / seconds;
    }

    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Human-readable lines. */
    public String render() {
        return String.format("%-8s %12.0f msg/s %12.0f req/s   latency ms p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  "
                        + "max %.3f   errors %s", mode, messagesPerSecond(), requestsPerSecond(), p50Ms, p90Ms, p99Ms,
                p999Ms, maxMs, errors.isEmpty() ? "none" : errors.toString());
    }
}
