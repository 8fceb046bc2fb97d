package dev.spool.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.benchmarks.client.HttpConnection;
import dev.spool.broker.Broker;
import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.ConfigLoader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The broker in-process (real Undertow on a free port, real journal, audit log on), driven by 16 JMH
 * threads over keep-alive connections: {@code trivial} ({@code GET /health}, the server's ceiling),
 * {@code push} (one 300-byte transaction), {@code pair} (push then pull). Scores are requests per second.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(16)
@Fork(value = 1, jvmArgsAppend = {JvmFlags.HEAP_MIN, JvmFlags.HEAP_MAX})
public class HttpBenchmark {

    /** One broker for the whole run. */
    @State(Scope.Benchmark)
    public static class Server {
        /** {@code metrics.enabled}: run with {@code -p metrics=true,false} to see what request counting costs. */
        @Param({"true"})
        public boolean metrics;
        Path dir;
        Broker broker;
        URI url;
        String token;

        @Setup(Level.Trial)
        public void start() throws IOException {
            dir = BenchFiles.tempDir("spool-http");
            Files.writeString(dir.resolve("config.yaml"), """
                    QueueManager:
                      max_length: 1000000000
                    server:
                      port: 0
                    metrics:
                      enabled: %s
                    """.formatted(metrics));
            UserStore.load(dir.resolve("users.yaml")).put("bench", Role.ADMINISTRATOR, "bench-password".toCharArray());
            broker = Broker.start(ConfigLoader.load(dir.resolve("config.yaml")),
                    new PrintStream(OutputStream.nullOutputStream()));
            url = URI.create("http://127.0.0.1:" + broker.port());
            try (HttpConnection c = new HttpConnection(url, 10_000)) {
                HttpConnection.Response r = c.send("POST", "/login", null, "application/json",
                        "{\"username\":\"bench\",\"password\":\"bench-password\"}".getBytes(StandardCharsets.UTF_8));
                token = new ObjectMapper().readTree(r.body()).path("token").asText();
                c.send("POST", "/queues/bench", token, null, null);
            }
        }

        @TearDown(Level.Trial)
        public void stop() throws IOException {
            broker.close();
            BenchFiles.delete(dir);
        }
    }

    /** One keep-alive connection per JMH thread. */
    @State(Scope.Thread)
    public static class Client {
        HttpConnection conn;

        @Setup(Level.Trial)
        public void open(Server s) {
            conn = new HttpConnection(s.url, 10_000);
        }

        @TearDown(Level.Trial)
        public void close() {
            conn.close();
        }
    }

    @Benchmark
    public int trivial(Client c) throws IOException {
        return c.conn.send("GET", "/health", null, null, null).status();
    }

    @Benchmark
    public int push(Server s, Client c) throws IOException {
        return c.conn.send("POST", "/queues/bench/messages", s.token, "application/json", CodecBenchmark.TRANSACTION)
                .status();
    }

    @Benchmark
    public int pair(Server s, Client c) throws IOException {
        c.conn.send("POST", "/queues/bench/messages", s.token, "application/json", CodecBenchmark.TRANSACTION);
        return c.conn.send("GET", "/queues/bench/messages/first", s.token, null, null).status();
    }
}
