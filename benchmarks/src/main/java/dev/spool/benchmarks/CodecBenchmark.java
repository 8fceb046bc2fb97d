package dev.spool.benchmarks;

import dev.spool.broker.http.MessageCodec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The broker's message codec on a 300-byte transaction: parse and check a push ({@code encodeUntyped}),
 * the same with the Transaction model validated ({@code encodeTransaction}), and the pull rendering
 * ({@code render}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
@State(Scope.Thread)
public class CodecBenchmark {
    static final byte[] TRANSACTION = ("{\"body\":{\"transaction_id\":\"tx-000123\",\"customer\":{\"user_id\":42,"
            + "\"username\":\"alice\",\"role\":3},\"status\":0,\"vendor_id\":\"v-17\",\"amount\":123.45},"
            + "\"metadata\":{\"node\":\"hpc-17\",\"job\":\"score-7\",\"submitted\":\"2026-11-27T10:00:00Z\"}}")
            .getBytes(StandardCharsets.UTF_8);

    private byte[] stored;

    @Setup
    public void setUp() {
        stored = MessageCodec.encode(TRANSACTION, null);
    }

    @Benchmark
    public byte[] encodeUntyped() {
        return MessageCodec.encode(TRANSACTION, null);
    }

    @Benchmark
    public byte[] encodeTransaction() {
        return MessageCodec.encode(TRANSACTION, "transaction");
    }

    @Benchmark
    public byte[] render() {
        return MessageCodec.render(123_456_789L, stored);
    }
}
