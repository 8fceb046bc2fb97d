package dev.spool.benchmarks;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * What refusing duplicate keys costs (issue 9): a streaming pass over the 300-byte transaction with Jackson's
 * {@code STRICT_DUPLICATE_DETECTION} off and on, in one run ({@code -p strict=false,true}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
@State(Scope.Thread)
public class DuplicateKeysBenchmark {
    @Param({"false", "true"})
    public boolean strict;
    private JsonFactory factory;

    @Setup
    public void setUp() {
        factory = new JsonFactory();
        if (strict) {
            factory.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        }
    }

    @Benchmark
    public int parse() throws IOException {
        int tokens = 0;
        try (JsonParser p = factory.createParser(CodecBenchmark.TRANSACTION)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                tokens++;
            }
        }
        return tokens;
    }
}
