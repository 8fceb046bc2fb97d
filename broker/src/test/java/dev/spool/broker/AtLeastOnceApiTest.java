package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import dev.spool.storage.MutableClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batches, batch pulls, leases, acks, nacks, renewals, dead letters and redrive over HTTP. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AtLeastOnceApiTest {
    TestBroker b;
    MutableClock clock;
    private final AtomicInteger names = new AtomicInteger();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        clock = new MutableClock(Instant.parse("2026-11-27T12:00:00Z"));
        b = new TestBroker(dir, "queues:\n  max_deliveries: 3\n  max_visibility_seconds: 600\n", clock);
    }

    @AfterAll
    void stop() {
        b.close();
    }

    private String queue(String body) throws Exception {
        String q = "alo" + names.incrementAndGet();
        assertEquals(201, b.admin("POST", "/queues/" + q, body).statusCode());
        return q;
    }

    private JsonNode ok(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        return TestBroker.json(r);
    }

    @Test
    void batchPushShouldStoreAllWithIdsAndBatchPullReturnThemInOrder() throws Exception {
        String q = queue(null);
        JsonNode r = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch",
                "[{\"body\":{\"n\":1}},{\"body\":{\"n\":2},\"metadata\":{\"k\":\"v\"}},{\"body\":{\"n\":3}}]"), 201);
        assertEquals("ok", r.path("result").asText());
        assertEquals("[1,2,3]", r.path("ids").toString());
        assertEquals("process", r.path("durability").asText());
        JsonNode two = ok(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=2", null), 200);
        assertEquals(2, two.size());
        assertEquals(1, two.get(0).path("body").path("n").asInt());
        assertEquals("v", two.get(1).path("metadata").path("k").asText());
        JsonNode rest = ok(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=10", null), 200);
        assertEquals(1, rest.size());
        assertEquals("[]", b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=10", null).body());
    }

    @Test
    void ndjsonBatchShouldBeAccepted() throws Exception {
        String q = queue(null);
        HttpRequest req = HttpRequest.newBuilder(URI.create(b.url("/queues/" + q + "/messages/batch")))
                .header("Authorization", b.tokens.get(Role.AGENT)).header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString("{\"body\":{\"n\":1}}\n{\"body\":{\"n\":2}}\n")).build();
        HttpResponse<String> r = b.http.send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals("[1,2]", ok(r, 201).path("ids").toString());
    }

    @Test
    void batchShouldBeAllOrNothing() throws Exception {
        String q = queue("{\"max_length\":3}");
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{}}");
        HttpResponse<String> full = b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch",
                "[{\"body\":{}},{\"body\":{}},{\"body\":{}}]");
        assertEquals(429, full.statusCode());
        assertEquals("QUEUE_FULL", TestBroker.json(full).path("code").asText());
        HttpResponse<String> bad = b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch",
                "[{\"body\":{}},{\"body\":\"oops\"}]");
        assertEquals(400, bad.statusCode());
        assertTrue(TestBroker.json(bad).path("detail").asText().contains("messages[1]"), bad.body());
        String tx = queue("{\"type\":\"result\"}");
        HttpResponse<String> schema = b.as(Role.AGENT, "POST", "/queues/" + tx + "/messages/batch",
                "[{\"body\":{\"result_id\":\"r\",\"transaction_id\":\"t\",\"timestamp\":\"2026-01-01T00:00:00Z\","
                        + "\"is_fraudulent\":true,\"confidence\":0.5}},{\"body\":{\"result_id\":\"r\"}}]");
        assertEquals(422, schema.statusCode());
        assertTrue(TestBroker.json(schema).path("detail").asText().contains("messages[1]"));
        assertEquals(1, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).path("depth").asInt());
        assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + tx, null)).path("depth").asInt());
    }

    @Test
    void leasesShouldHideMessagesUntilAckAndRejectExpiredAcks() throws Exception {
        String q = queue(null);
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch", "[{\"body\":{\"n\":1}},{\"body\":{\"n\":2}}]");
        JsonNode leased = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=1&visibility=10", null), 200);
        assertEquals(1, leased.size());
        JsonNode m = leased.get(0);
        assertEquals(1, m.path("id").asLong());
        assertEquals(1, m.path("delivery").asInt());
        assertEquals(1, m.path("body").path("n").asInt());
        String lease = m.path("lease").asText();
        // A destructive pull takes the oldest message not leased.
        assertEquals(2, TestBroker.json(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first", null)).path("id").asInt());
        clock.advance(Duration.ofSeconds(10));
        JsonNode again = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=5", null), 200);
        assertEquals(1, again.get(0).path("id").asLong());
        assertEquals(2, again.get(0).path("delivery").asInt());
        JsonNode late = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/acks", "{\"leases\":[\"" + lease + "\"]}"), 200);
        assertEquals(0, late.path("acked").asInt());
        assertEquals("expired", late.path("rejected").get(0).path("reason").asText());
        assertEquals(lease, late.path("rejected").get(0).path("lease").asText());
        JsonNode good = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/acks",
                "{\"leases\":[\"" + again.get(0).path("lease").asText() + "\",\"nonsense\"]}"), 200);
        assertEquals(1, good.path("acked").asInt());
        assertEquals("unknown", good.path("rejected").get(0).path("reason").asText());
        assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).path("depth").asInt());
    }

    /** Issue 21: {@code queues.max_visibility_seconds} bounds leases and renewals alike, on either backend. */
    @Test
    void visibilityBeyondTheConfiguredLongestShouldBeRefused() throws Exception {
        String q = queue(null);
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":1}}");
        HttpResponse<String> tooLong = b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=601", null);
        assertEquals(400, tooLong.statusCode(), tooLong.body());
        assertTrue(tooLong.body().contains("queues.max_visibility_seconds"), tooLong.body());
        String lease = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=600", null), 200)
                .get(0).path("lease").asText();
        HttpResponse<String> renew = b.as(Role.AGENT, "POST", "/queues/" + q + "/renewals",
                "{\"leases\":[\"" + lease + "\"],\"visibility_seconds\":601}");
        assertEquals(400, renew.statusCode(), renew.body());
        assertEquals(600, ok(b.as(Role.BASIC, "GET", "/queues/" + q, null), 200).path("guarantees")
                .path("max_visibility_seconds").asInt());
    }

    @Test
    void nackAndRenewShouldWork() throws Exception {
        String q = queue(null);
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":1}}");
        String lease = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=10", null), 200)
                .get(0).path("lease").asText();
        clock.advance(Duration.ofSeconds(8));
        assertEquals(1, ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/renewals",
                "{\"leases\":[\"" + lease + "\"],\"visibility_seconds\":60}"), 200).path("renewed").asInt());
        clock.advance(Duration.ofSeconds(30));
        assertEquals("[]", b.as(Role.AGENT, "POST", "/queues/" + q + "/leases", null).body(), "renewed: still leased");
        assertEquals(1, ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/nacks",
                "{\"leases\":[\"" + lease + "\"],\"delay_seconds\":0}"), 200).path("released").asInt());
        JsonNode back = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases", null), 200);
        assertEquals(2, back.get(0).path("delivery").asInt());
    }

    @Test
    void messageLeasedMaxDeliveriesTimesShouldBeDeadLetteredAndRedrivable() throws Exception {
        String q = queue("{\"max_deliveries\":2}");
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"poison\":true},\"metadata\":{\"src\":\"x\"}}");
        for (int i = 0; i < 2; i++) {
            assertEquals(1, ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=5", null), 200).size());
            clock.advance(Duration.ofSeconds(5));
        }
        assertEquals("[]", b.as(Role.AGENT, "POST", "/queues/" + q + "/leases", null).body());
        JsonNode dead = TestBroker.json(b.as(Role.AGENT, "GET", "/queues/" + q + ".dlq/messages?max=5", null));
        assertEquals(1, dead.size(), dead.toString());
        assertEquals(2, dead.get(0).path("metadata").path("deliveries").asInt());
        assertEquals(q, dead.get(0).path("metadata").path("dead_letter_from").asText());
        assertEquals("x", dead.get(0).path("metadata").path("src").asText());
        // Dead-letter once more, then redrive it back.
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"poison\":2}}");
        for (int i = 0; i < 2; i++) {
            b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=5", null);
            clock.advance(Duration.ofSeconds(5));
        }
        b.as(Role.AGENT, "POST", "/queues/" + q + "/leases", null);
        assertEquals(403, b.as(Role.AGENT, "POST", "/queues/" + q + "/redrive", null).statusCode());
        JsonNode moved = ok(b.admin("POST", "/queues/" + q + "/redrive", null), 200);
        assertEquals(1, moved.path("moved").asInt());
        JsonNode redriven = TestBroker.json(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first", null));
        assertEquals(2, redriven.path("body").path("poison").asInt());
    }

    @Test
    void idempotencyKeysShouldReturnTheOriginalIdsAndStoreNothing() throws Exception {
        String q = queue(null);
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(b.url("/queues/" + q + "/messages")))
                .header("Authorization", b.tokens.get(Role.AGENT)).header("Content-Type", "application/json")
                .header("Idempotency-Key", "order-42");
        HttpResponse<String> first = b.http.send(rb.POST(HttpRequest.BodyPublishers.ofString("{\"body\":{\"n\":1}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> again = b.http.send(rb.POST(HttpRequest.BodyPublishers.ofString("{\"body\":{\"n\":1}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(ok(first, 201).path("id"), ok(again, 201).path("id"));
        assertTrue(TestBroker.json(again).path("duplicate").asBoolean());
        JsonNode batch = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch",
                "[{\"body\":{},\"metadata\":{\"idempotency_key\":\"order-42\"}},"
                        + "{\"body\":{},\"metadata\":{\"idempotency_key\":\"order-43\"}}]"), 201);
        assertEquals("[1,2]", batch.path("ids").toString());
        assertEquals(1, batch.path("duplicates").asInt());
        assertEquals(2, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).path("depth").asInt());
    }

    @Test
    void badLeaseRequestsShouldBe400() throws Exception {
        String q = queue(null);
        assertEquals(400, b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=0", null).statusCode());
        assertEquals(400, b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=abc", null).statusCode());
        assertEquals(400, b.as(Role.AGENT, "POST", "/queues/" + q + "/acks", "{\"lease\":\"x\"}").statusCode());
        assertEquals(400, b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?wait=-1", null).statusCode());
        assertEquals(404, b.as(Role.AGENT, "POST", "/queues/nope/leases", null).statusCode());
        assertEquals(404, b.as(Role.AGENT, "POST", "/queues/nope/acks", "{\"leases\":[]}").statusCode());
        assertEquals(403, b.as(Role.SECRETARY, "POST", "/queues/" + q + "/leases", null).statusCode());
        assertEquals(403, b.as(Role.BASIC, "POST", "/queues/" + q + "/messages/batch", "[]").statusCode());
    }
}
