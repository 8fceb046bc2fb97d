package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Named subscriptions over HTTP (issue 22), against a real broker: the routes, their roles, their answers (each
 * checked against openapi.yaml by {@link TestBroker}) and their errors; the queue's own routes unchanged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SubscriptionApiTest {
    TestBroker b;
    private int n;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        b = new TestBroker(dir);
    }

    @AfterAll
    void stop() {
        b.close();
    }

    private String queue() throws Exception {
        String q = "sq" + ++n;
        assertEquals(201, b.admin("POST", "/queues/" + q, "{\"max_length\":1000}").statusCode());
        return q;
    }

    private List<Long> push(String q, int count) throws Exception {
        List<Long> ids = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            HttpResponse<String> r = b.as(Role.AGENT, "POST", "/queues/" + q + "/messages",
                    "{\"body\":{\"n\":" + i + "},\"metadata\":{}}");
            assertEquals(201, r.statusCode(), r.body());
            ids.add(TestBroker.json(r).get("id").asLong());
        }
        return ids;
    }

    private static List<Integer> numbers(JsonNode messages) {
        List<Integer> out = new ArrayList<>();
        messages.forEach(m -> out.add(m.path("body").path("n").asInt()));
        return out;
    }

    private JsonNode pull(String q, String sub, int max) throws Exception {
        HttpResponse<String> r = b.as(Role.AGENT, "GET", "/queues/" + q + "/subscriptions/" + sub + "/messages?max="
                + max, null);
        assertEquals(200, r.statusCode(), r.body());
        return TestBroker.json(r);
    }

    @Test
    void twoSubscriptionsShouldEachReceiveEveryMessageAndTheQueueToo() throws Exception {
        String q = queue();
        List<Long> ids = push(q, 5);
        HttpResponse<String> created = b.admin("POST", "/queues/" + q + "/subscriptions/v2", "{\"start\":\"earliest\"}");
        assertEquals(201, created.statusCode(), created.body());
        JsonNode s = TestBroker.json(created);
        assertEquals("v2", s.get("name").asText());
        assertEquals(5, s.get("backlog").asLong());
        assertEquals(q + ".v2.dlq", s.get("dead_letter_queue").asText());
        assertEquals(201, b.admin("POST", "/queues/" + q + "/subscriptions/v1", "{\"id\":" + ids.get(2) + "}")
                .statusCode());
        assertEquals(List.of(1, 2, 3, 4, 5), numbers(pull(q, "v2", 10)));
        assertEquals(List.of(3, 4, 5), numbers(pull(q, "v1", 10)));
        JsonNode own = TestBroker.json(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=10", null));
        assertEquals(List.of(1, 2, 3, 4, 5), numbers(own), "the queue's own route still delivers everything");

        JsonNode list = TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q + "/subscriptions", null));
        assertEquals(2, list.get("subscriptions").size());
        JsonNode one = TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q + "/subscriptions/v2", null));
        assertEquals(0, one.get("backlog").asLong());
        assertEquals(ids.get(4), one.get("position").asLong());
    }

    @Test
    void leasesAcksAndSeeksShouldWorkThroughASubscription() throws Exception {
        String q = queue();
        b.admin("POST", "/queues/" + q + "/subscriptions/r", null);
        List<Long> ids = push(q, 4);
        HttpResponse<String> leased = b.as(Role.AGENT, "POST", "/queues/" + q + "/subscriptions/r/leases?max=4", null);
        assertEquals(200, leased.statusCode(), leased.body());
        JsonNode ls = TestBroker.json(leased);
        assertEquals(List.of(1, 2, 3, 4), numbers(ls));
        HttpResponse<String> acked = b.as(Role.AGENT, "POST", "/queues/" + q + "/subscriptions/r/acks",
                "{\"leases\":[\"" + ls.get(0).get("lease").asText() + "\"]}");
        assertEquals(1, TestBroker.json(acked).get("acked").asInt());
        HttpResponse<String> wrong = b.as(Role.AGENT, "POST", "/queues/" + q + "/acks",
                "{\"leases\":[\"" + ls.get(1).get("lease").asText() + "\"]}");
        assertEquals(0, TestBroker.json(wrong).get("acked").asInt(), "a subscription's lease is not the queue's");

        HttpResponse<String> seek = b.admin("POST", "/queues/" + q + "/subscriptions/r/seek", "{\"id\":" + ids.get(1)
                + "}");
        assertEquals(200, seek.statusCode(), seek.body());
        assertEquals(3, TestBroker.json(seek).get("backlog").asLong());
        assertEquals(List.of(2, 3, 4), numbers(pull(q, "r", 10)), "the replay re-delivers from message 2");
        HttpResponse<String> stale = b.as(Role.AGENT, "POST", "/queues/" + q + "/subscriptions/r/acks",
                "{\"leases\":[\"" + ls.get(2).get("lease").asText() + "\"]}");
        assertEquals("unknown", TestBroker.json(stale).get("rejected").get(0).get("reason").asText());
    }

    @Test
    void aWaitingPullThroughASubscriptionShouldWakeOnAPush() throws Exception {
        String q = queue();
        b.admin("POST", "/queues/" + q + "/subscriptions/w", null);
        HttpRequest req = HttpRequest.newBuilder(URI.create(b.url("/queues/" + q + "/subscriptions/w/messages/first"
                + "?wait=20"))).timeout(Duration.ofSeconds(60)).header("Authorization", b.tokens.get(Role.AGENT))
                .GET().build();
        CompletableFuture<HttpResponse<String>> waiting = b.http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q + "/subscriptions/w", null))
                .get("waiting_requests").asInt() < 1) {
            assertTrue(System.nanoTime() < deadline, "the pull never waited");
            Thread.onSpinWait();
        }
        push(q, 1);
        HttpResponse<String> r = waiting.get(15, TimeUnit.SECONDS);
        assertEquals(1, TestBroker.json(r).get("body").get("n").asInt());
    }

    @Test
    void pauseResumeDeleteAndRedriveShouldAnswerAsDocumented() throws Exception {
        String q = queue();
        assertEquals(201, b.admin("POST", "/queues/" + q + "/subscriptions/p",
                "{\"paused\":true,\"max_deliveries\":1}").statusCode());
        push(q, 1);
        assertEquals("[]", b.as(Role.AGENT, "GET", "/queues/" + q + "/subscriptions/p/messages?max=5", null).body());
        assertEquals(false, TestBroker.json(b.admin("POST", "/queues/" + q + "/subscriptions/p/resume", null))
                .get("paused").asBoolean());
        JsonNode l = TestBroker.json(b.as(Role.AGENT, "POST", "/queues/" + q + "/subscriptions/p/leases", null));
        b.as(Role.AGENT, "POST", "/queues/" + q + "/subscriptions/p/nacks", "{\"leases\":[\"" + l.get(0).get("lease")
                .asText() + "\"]}");
        long moved = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (moved == 0 && System.nanoTime() < deadline) {
            HttpResponse<String> r = b.admin("POST", "/queues/" + q + "/subscriptions/p/redrive", null);
            assertEquals(200, r.statusCode(), r.body());
            moved = TestBroker.json(r).get("moved").asLong();
        }
        assertEquals(1, moved);
        assertEquals(List.of(1), numbers(pull(q, "p", 5)), "the redriven message comes back to p");
        assertEquals(List.of(1), numbers(TestBroker.json(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=5",
                null))), "and only once to the queue's own consumers");
        assertEquals(200, b.admin("DELETE", "/queues/" + q + "/subscriptions/p", null).statusCode());
        HttpResponse<String> gone = b.as(Role.AGENT, "GET", "/queues/" + q + "/subscriptions/p/messages", null);
        assertEquals(404, gone.statusCode());
        assertEquals("SUBSCRIPTION_NOT_FOUND", TestBroker.json(gone).get("code").asText());
        assertTrue(Files.notExists(b.dir.resolve("data/queues/" + q + "/subs/p")));
    }

    @Test
    void errorsShouldBeClearJson() throws Exception {
        String q = queue();
        push(q, 2);
        expect(b.admin("POST", "/queues/nope/subscriptions/s", null), 404, "QUEUE_NOT_FOUND");
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/s", "{\"id\":99}"), 400, "BAD_START");
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/s", "{\"start\":\"earliest\",\"id\":1}"), 400,
                "BAD_START");
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/s", "{\"from_time\":\"yesterday\"}"), 400, "BAD_START");
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/s", "{\"start\":\"soon\"}"), 400, "BAD_START");
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/s", "{\"colour\":1}"), 400, "INVALID_REQUEST");
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/bad%2Fname", null), 400, "INVALID_SUBSCRIPTION_NAME");
        assertEquals(201, b.admin("POST", "/queues/" + q + "/subscriptions/s", null).statusCode());
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/s", null), 409, "SUBSCRIPTION_EXISTS");
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/s/seek", "{}"), 400, "BAD_START");
        expect(b.admin("POST", "/queues/" + q + "/subscriptions/x/seek", "{\"start\":\"earliest\"}"), 404,
                "SUBSCRIPTION_NOT_FOUND");
        expect(b.as(Role.AGENT, "POST", "/queues/" + q + "/subscriptions/s/seek", "{\"start\":\"earliest\"}"), 403,
                "FORBIDDEN");
        expect(b.as(Role.AGENT, "POST", "/queues/" + q + "/subscriptions/t", null), 403, "FORBIDDEN");
        expect(b.as(Role.SECRETARY, "GET", "/queues/" + q + "/subscriptions/s/messages", null), 403, "FORBIDDEN");
        expect(b.as(Role.AGENT, "DELETE", "/queues/" + q + "/subscriptions/s", null), 403, "FORBIDDEN");
        expect(b.send("GET", "/queues/" + q + "/subscriptions", null, null), 401, "UNAUTHORIZED");
    }

    @Test
    void aQueueShouldTakeRetentionBoundsOfItsOwn() throws Exception {
        String q = "sq-retained";
        assertEquals(201, b.admin("POST", "/queues/" + q, "{\"retention\":{\"max_age\":\"2d\",\"max_bytes\":\"1GiB\"}}")
                .statusCode());
        JsonNode r = TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).get("retention");
        assertEquals(2 * 86_400, r.get("max_age_seconds").asLong());
        assertEquals(1L << 30, r.get("max_bytes").asLong());
        JsonNode none = TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + queue(), null)).get("retention");
        assertEquals(0, none.get("max_age_seconds").asLong(), "the configuration's: none");
        expect(b.admin("POST", "/queues/sq-bad1", "{\"retention\":{\"max_age\":\"soon\"}}"), 400, "INVALID_REQUEST");
        expect(b.admin("POST", "/queues/sq-bad2", "{\"retention\":{\"max_bytes\":-5}}"), 400, "INVALID_REQUEST");
        expect(b.admin("POST", "/queues/sq-bad3", "{\"retention\":{\"max_size\":1}}"), 400, "INVALID_REQUEST");
        expect(b.admin("POST", "/queues/sq-bad4", "{\"retention\":7}"), 400, "INVALID_REQUEST");
    }

    private static void expect(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(code, TestBroker.json(r).get("code").asText(), r.body());
    }
}
