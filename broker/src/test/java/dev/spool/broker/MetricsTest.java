package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10, metrics: {@code GET /metrics} in the Prometheus text format, counting what the API did. */
@Timeout(60)
class MetricsTest {
    private static final Pattern SAMPLE = Pattern.compile(
            "^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{(?:[^\"}]|\"(?:[^\"\\\\]|\\\\.)*\")*})?) (\\S+)$");

    @TempDir
    Path dir;

    /** Every sample of a scrape, keyed by name and labels exactly as written. */
    private static Map<String, Double> scrape(TestBroker b) throws Exception {
        HttpResponse<String> r = b.send("GET", "/metrics", null, null);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                r.headers().toString());
        Map<String, Double> out = new HashMap<>();
        for (String line : r.body().split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertTrue(m.matches(), "a valid sample line: " + line);
            out.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return out;
    }

    private static double value(Map<String, Double> s, String key) {
        Double v = s.get(key);
        assertNotNull(v, "no sample " + key + " in " + s.keySet().stream().filter(k -> k.startsWith("spool_")).sorted().toList());
        return v;
    }

    @Test
    void eachSubscriptionShouldHaveItsBacklogAgeAndCounts() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            assertEquals(201, b.admin("POST", "/queues/q/subscriptions/v1", null).statusCode());
            assertEquals(201, b.admin("POST", "/queues/q/subscriptions/v2", null).statusCode());
            for (int i = 0; i < 3; i++) {
                assertEquals(201, b.as(Role.AGENT, "POST", "/queues/q/messages", "{\"body\":{\"n\":" + i + "}}")
                        .statusCode());
            }
            assertEquals(200, b.as(Role.AGENT, "GET", "/queues/q/subscriptions/v1/messages?max=2", null).statusCode());
            Map<String, Double> s = scrape(b);
            assertEquals(1, value(s, "spool_subscription_backlog{queue=\"q\",subscription=\"v1\"}"));
            assertEquals(3, value(s, "spool_subscription_backlog{queue=\"q\",subscription=\"v2\"}"));
            assertEquals(2, value(s, "spool_subscription_delivered_total{queue=\"q\",subscription=\"v1\"}"));
            assertEquals(0, value(s, "spool_subscription_delivered_total{queue=\"q\",subscription=\"v2\"}"));
            assertEquals(3, value(s, "spool_queue_depth{queue=\"q\"}"), "the queue's own backlog is its own");
            // The age itself is tested against a set clock in the storage tests (SubscriptionFilesTest); here, that it is exported.
            value(s, "spool_subscription_oldest_age_seconds{queue=\"q\",subscription=\"v2\"}");
            assertEquals(0, value(s, "spool_subscription_paused{queue=\"q\",subscription=\"v2\"}"));
        }
    }

    @Test
    void aScrapeShouldCountWhatTheApiDidWithoutAToken() throws Exception {
        try (TestBroker b = new TestBroker(dir, "storage:\n  fsync: always\n", Clock.systemUTC())) {
            assertEquals(201, b.admin("POST", "/queues/q", "{\"max_deliveries\":2}").statusCode());
            for (int i = 0; i < 5; i++) {
                assertEquals(201, b.as(Role.AGENT, "POST", "/queues/q/messages", "{\"body\":{\"n\":" + i + "}}").statusCode());
            }
            HttpResponse<String> dup1 = b.http.send(HttpRequest.newBuilder(URI.create(b.url("/queues/q/messages")))
                    .header("Authorization", b.tokens.get(Role.AGENT)).header("Idempotency-Key", "k1")
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"body\":{}}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, dup1.statusCode());
            HttpResponse<String> dup2 = b.http.send(HttpRequest.newBuilder(URI.create(b.url("/queues/q/messages")))
                    .header("Authorization", b.tokens.get(Role.AGENT)).header("Idempotency-Key", "k1")
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"body\":{}}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(dup2.body().contains("\"duplicate\":true"), dup2.body());
            // 6 stored: pull 1, lease 3 (ack 1, nack 1 twice until dead-lettered, let 1 expire)
            assertEquals(200, b.as(Role.AGENT, "GET", "/queues/q/messages/first", null).statusCode());
            JsonNode leased = TestBroker.json(b.as(Role.AGENT, "POST", "/queues/q/leases?max=3&visibility=1", null));
            assertEquals(3, leased.size());
            assertEquals(200, b.as(Role.AGENT, "POST", "/queues/q/acks",
                    "{\"leases\":[\"" + leased.get(0).get("lease").asText() + "\"]}").statusCode());
            assertEquals(200, b.as(Role.AGENT, "POST", "/queues/q/nacks",
                    "{\"leases\":[\"" + leased.get(1).get("lease").asText() + "\"]}").statusCode());
            // The nacked message comes back first; its second delivery, nacked, reaches max_deliveries 2.
            JsonNode again = TestBroker.json(b.as(Role.AGENT, "POST", "/queues/q/leases?max=1&visibility=30", null));
            assertEquals(leased.get(1).get("id").asLong(), again.get(0).get("id").asLong());
            assertEquals(200, b.as(Role.AGENT, "POST", "/queues/q/nacks",
                    "{\"leases\":[\"" + again.get(0).get("lease").asText() + "\"]}").statusCode());
            assertEquals(404, b.as(Role.AGENT, "GET", "/queues/nope", null).statusCode());
            assertEquals(404, b.send("GET", "/no/such/path/42", null, null).statusCode());

            // The third lease (visibility 1 s) expires, and the dead letter moves, on the store's thread.
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            Map<String, Double> s = scrape(b);
            while ((s.getOrDefault("spool_messages_expired_total{queue=\"q\"}", 0.0) < 1
                    || s.getOrDefault("spool_messages_dead_lettered_total{queue=\"q\"}", 0.0) < 1)
                    && System.nanoTime() < deadline) {
                s = scrape(b);
            }
            assertEquals(6, value(s, "spool_messages_pushed_total{queue=\"q\"}"));
            assertEquals(1, value(s, "spool_pushes_duplicate_total{queue=\"q\"}"));
            assertEquals(1, value(s, "spool_messages_pulled_total{queue=\"q\"}"));
            assertEquals(4, value(s, "spool_messages_delivered_total{queue=\"q\"}"));
            assertEquals(1, value(s, "spool_messages_acked_total{queue=\"q\"}"));
            assertEquals(2, value(s, "spool_messages_nacked_total{queue=\"q\"}"));
            assertEquals(1, value(s, "spool_messages_expired_total{queue=\"q\"}"));
            assertEquals(1, value(s, "spool_messages_dead_lettered_total{queue=\"q\"}"));
            assertEquals(3, value(s, "spool_queue_depth{queue=\"q\"}"), "6 - pulled - acked - dead-lettered");
            assertEquals(1, value(s, "spool_queue_depth{queue=\"q.dlq\"}"));
            assertEquals(0, value(s, "spool_queue_waiting_requests{queue=\"q\"}"));
            assertTrue(value(s, "spool_queue_disk_usage_bytes{queue=\"q\"}") > 0);

            assertEquals(200, b.admin("POST", "/queues/q/redrive", null).statusCode());
            s = scrape(b);
            assertEquals(1, value(s, "spool_messages_redriven_total{queue=\"q\"}"));
            assertEquals(4, value(s, "spool_queue_depth{queue=\"q\"}"));

            // Requests by route template, never by raw path; unknown paths share one label.
            assertEquals(5 + 2, value(s, "spool_http_requests_total{method=\"POST\",route=\"/queues/{name}/messages\",status=\"201\"}"));
            assertEquals(1, value(s, "spool_http_requests_total{method=\"GET\",route=\"/queues/{name}\",status=\"404\"}"));
            assertEquals(1, value(s, "spool_http_requests_total{method=\"other\",route=\"unmatched\",status=\"404\"}"));
            assertEquals(7, value(s, "spool_http_request_duration_seconds_count{method=\"POST\",route=\"/queues/{name}/messages\"}"));
            assertFalse(s.keySet().stream().anyMatch(k -> k.contains("/no/such/path") || k.contains("queue=\"nope\"")),
                    "no raw paths or unknown queues in labels");
            // Under fsync always every push waited for a group commit.
            assertTrue(value(s, "spool_fsync_duration_seconds_count") >= 1);
            assertTrue(value(s, "spool_group_commit_messages_count") >= 1);
            assertTrue(value(s, "spool_group_commit_messages_sum") >= 6);
            assertTrue(value(s, "spool_audit_events_written_total") >= 1);
            assertTrue(value(s, "spool_audit_written_bytes_total") > 0);
            assertEquals(0, value(s, "spool_audit_events_dropped_total"));
            assertTrue(value(s, "spool_disk_free_bytes") > 0);
            assertTrue(value(s, "spool_http_connections") >= 1);
            assertTrue(value(s, "spool_http_connections_accepted_total") >= value(s, "spool_http_connections"));
            assertTrue(s.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes")), "JVM metrics");
        }
    }

    @Test
    void aCheckpointShouldBeTimed() throws Exception {
        try (TestBroker b = new TestBroker(dir, "", Clock.systemUTC())) {
            // A checkpoint is written when the store opens.
            assertTrue(value(scrape(b), "spool_checkpoint_duration_seconds_count") >= 1);
        }
    }

    @Test
    void aConfiguredBearerTokenShouldBeRequired() throws Exception {
        String secret = "scrape-secret-0123456789";
        try (TestBroker b = new TestBroker(dir, "metrics:\n  bearer_token: \"" + secret + "\"\n", Clock.systemUTC())) {
            HttpResponse<String> none = b.send("GET", "/metrics", null, null);
            assertEquals(401, none.statusCode());
            assertEquals("UNAUTHORIZED", TestBroker.json(none).path("code").asText());
            assertEquals(401, b.send("GET", "/metrics", "Bearer wrong-secret-0123456789", null).statusCode());
            assertEquals(401, b.as(Role.ADMINISTRATOR, "GET", "/metrics", null).statusCode(),
                    "a user's token is not the scrape token");
            HttpResponse<String> ok = b.send("GET", "/metrics", "Bearer " + secret, null);
            assertEquals(200, ok.statusCode());
            assertTrue(ok.body().contains("spool_http_requests_total"));
        }
    }

    @Test
    void metricsTurnedOffShouldNotBeServed() throws Exception {
        try (TestBroker b = new TestBroker(dir, "metrics:\n  enabled: false\n", Clock.systemUTC())) {
            assertEquals(404, b.send("GET", "/metrics", null, null).statusCode());
            assertEquals(200, b.send("GET", "/health/live", null, null).statusCode());
        }
    }
}
