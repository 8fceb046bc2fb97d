package dev.spool.benchmarks;

import dev.spool.broker.metrics.HttpMetrics;
import dev.spool.broker.metrics.Metrics;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What counting one request costs the broker: the work {@link HttpMetrics} does when a response completes (a
 * counter add and a histogram observation on data points looked up once per route), from two threads as the
 * broker's two IO threads would. Compare with a push's whole cost ({@link HttpBenchmark#push}, tens of µs).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(2)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
@State(Scope.Benchmark)
public class MetricsBenchmark {
    private HttpMetrics.Route route;
    private long nanos = 1;

    @Setup
    public void setUp() {
        route = new Metrics().http().route("POST", "/queues/{name}/messages");
    }

    @Benchmark
    public void countOneRequest() {
        route.observe(201, nanos += 997);
    }
}
