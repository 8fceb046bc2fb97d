package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Defect 5: the store announces availability itself, so a waiting lease call is woken by a lease
 * expiring and by a delayed release ending, not only by pushes (a real clock and real timers).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class WakeUpTest {
    /** How soon after the event the waiting call must answer (the bound). */
    private static final long PROMPT_MS = 200;

    TestBroker b;
    private int n;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        b = new TestBroker(dir, "", Clock.systemUTC());
    }

    @AfterAll
    void stop() {
        b.close();
    }

    private String queueWithOneMessage() throws Exception {
        String q = "wake" + ++n;
        assertEquals(201, b.admin("POST", "/queues/" + q, null).statusCode());
        assertEquals(201, b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":" + n + "}}")
                .statusCode());
        return q;
    }

    private CompletableFuture<HttpResponse<String>> waitingLease(String q) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(b.url("/queues/" + q + "/leases?wait=10&visibility=30")))
                .timeout(Duration.ofSeconds(30)).header("Authorization", b.tokens.get(Role.AGENT))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        return b.http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aWaitingLeaseShouldGetAMessageAsSoonAsAnotherWorkersLeaseExpires() throws Exception {
        String q = queueWithOneMessage();
        HttpResponse<String> first = b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=1", null);
        long expiresBy = System.nanoTime() + Duration.ofSeconds(1).toNanos(); // granted before the answer came
        assertEquals(1, TestBroker.json(first).size());
        CompletableFuture<HttpResponse<String>> waiting = waitingLease(q);
        HttpResponse<String> r = waiting.get();
        long late = (System.nanoTime() - expiresBy) / 1_000_000;
        JsonNode got = TestBroker.json(r);
        assertEquals(1, got.size(), r.body());
        assertEquals(2, got.get(0).path("delivery").asInt());
        assertTrue(late < PROMPT_MS, "answered " + late + " ms after the lease expired");
    }

    @Test
    void aWaitingLeaseShouldGetAMessageAsSoonAsADelayedReleaseEnds() throws Exception {
        String q = queueWithOneMessage();
        String lease = TestBroker.json(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=60", null))
                .get(0).path("lease").asText();
        CompletableFuture<HttpResponse<String>> waiting = waitingLease(q);
        HttpResponse<String> nack = b.as(Role.AGENT, "POST", "/queues/" + q + "/nacks",
                "{\"leases\":[\"" + lease + "\"],\"delay_seconds\":1}");
        long endsBy = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        assertEquals(200, nack.statusCode(), nack.body());
        HttpResponse<String> r = waiting.get();
        long late = (System.nanoTime() - endsBy) / 1_000_000;
        assertEquals(1, TestBroker.json(r).size(), r.body());
        assertTrue(late < PROMPT_MS, "answered " + late + " ms after the delay ended");
    }
}
