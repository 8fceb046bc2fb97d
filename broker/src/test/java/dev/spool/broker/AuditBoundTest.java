package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.audit.AuditEvent;
import dev.spool.broker.audit.AuditLog;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit path cannot sink the process: the events waiting for the writer are bounded in bytes
 * ({@code audit.max_buffer_bytes}), a body too large for one event's share is recorded truncated, what does not fit
 * is dropped and counted, and {@code /health/ready} says the log is dropping.
 */
@Timeout(120)
class AuditBoundTest {
    @TempDir
    Path dir;

    /** A named pipe that a reader holds open without reading until {@code go} completes: a stalled disk. */
    private static Future<Long> stalledReader(ExecutorService pool, Path fifo, CompletableFuture<Void> go)
            throws Exception {
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        return pool.submit(() -> {
            try (InputStream in = new FileInputStream(fifo.toFile())) {
                go.join();
                long n = 0;
                byte[] buf = new byte[1 << 16];
                for (int r; (r = in.read(buf)) >= 0; ) {
                    n += r;
                }
                return n;
            }
        });
    }

    @Test
    void eventsWaitingForAStalledDiskShouldStayUnderTheByteBound() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        CompletableFuture<Void> go = new CompletableFuture<>();
        try {
            Path fifo = dir.resolve("audit.log");
            Future<Long> reader = stalledReader(pool, fifo, go);
            long bound = 1 << 20;
            AuditLog log = new AuditLog(fifo, Long.MAX_VALUE, 10, dev.spool.broker.config.BrokerConfig.AuditCompress.NONE, bound);
            String body = "x".repeat(10_000);
            for (int i = 0; i < 2_000; i++) { // about 40 MB of bodies, against a 1 MiB bound
                log.record(new AuditEvent(System.currentTimeMillis(), new InetSocketAddress("127.0.0.1", 1), "h", 1,
                        "POST", "/queues/q/messages", 201, 0.1, "u", 2, List.of(), null, body));
                assertTrue(log.bufferedBytes() <= bound, "waiting events hold " + log.bufferedBytes() + " bytes");
            }
            assertTrue(log.dropped() > 0, "what does not fit is dropped and counted");
            assertNotNull(log.problem(), "the log says it is dropping");
            assertTrue(log.problem().contains("dropping"), log.problem());
            Future<?> closed = pool.submit(log::close);
            go.complete(null);
            closed.get(60, TimeUnit.SECONDS);
            reader.get(60, TimeUnit.SECONDS);
            assertEquals(2_000, log.written() + log.dropped(), "each event written or dropped");
        } finally {
            go.complete(null);
            pool.shutdownNow();
        }
    }

    @Test
    void aBodyLargerThanOneEventsShareShouldBeRecordedTruncated() throws Exception {
        try (TestBroker b = new TestBroker(dir, "audit.max_buffer_bytes: 1048576", Clock.systemUTC())) {
            b.admin("POST", "/queues/big", null);
            String big = "y".repeat(100_000); // 100 KB against a 16 KiB share (a 64th of 1 MiB)
            HttpResponse<String> r = b.as(Role.AGENT, "POST", "/queues/big/messages",
                    "{\"body\":{\"text\":\"" + big + "\"}}");
            assertEquals(201, r.statusCode(), r.body());
        }
        List<String> lines = Files.readAllLines(dir.resolve("message_queue.log"));
        String push = lines.stream().filter(l -> l.contains("\"/queues/big/messages\"")).findFirst().orElseThrow();
        JsonNode event = TestBroker.JSON.readTree(push);
        assertTrue(event.path("body").isTextual(), "kept as the truncate policy keeps it: " + push.length());
        assertTrue(event.path("body").asText().endsWith("...(truncated)"), event.path("body").asText().length() + "");
        assertTrue(push.length() < 20_000, "the line is " + push.length() + " bytes");
    }

    @Test
    void readinessShouldSayTheAuditLogIsDropping() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool();
        CompletableFuture<Void> go = new CompletableFuture<>();
        try {
            Future<Long> reader = stalledReader(pool, dir.resolve("message_queue.log"), go);
            try (TestBroker b = new TestBroker(dir, "audit.max_buffer_bytes: 1048576", Clock.systemUTC())) {
                b.admin("POST", "/queues/q", "{\"max_length\":100000}");
                String body = "{\"body\":{\"text\":\"" + "z".repeat(12_000) + "\"}}";
                for (int i = 0; i < 300; i++) { // about 7 MB of events against a 1 MiB bound and a stalled disk
                    assertEquals(201, b.as(Role.AGENT, "POST", "/queues/q/messages", body).statusCode());
                }
                HttpResponse<String> ready = b.send("GET", "/health/ready", null, null);
                assertEquals(503, ready.statusCode(), ready.body());
                JsonNode audit = TestBroker.json(ready).path("checks").path("audit");
                assertTrue(audit.path("detail").asText().contains("dropping"), ready.body());
                go.complete(null); // the disk answers again: the broker can close its log
            }
            reader.get(60, TimeUnit.SECONDS);
        } finally {
            go.complete(null);
            pool.shutdownNow();
        }
    }
}
