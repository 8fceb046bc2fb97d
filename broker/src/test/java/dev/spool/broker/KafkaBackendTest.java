package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import dev.spool.storage.kafka.KafkaCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP API with {@code storage.backend: kafka} over a real one-node Kafka 4.4 (a KRaft child JVM): the
 * same routes answer, pushes report {@code "replicated"}, the stats name the backend and its guarantees, and
 * what Kafka cannot honour is refused with a 400 naming the limit. Every answer is also checked against the
 * OpenAPI document by {@link TestBroker#send}. Runs with {@code -Pkafka}.
 */
class KafkaBackendTest {
    @TempDir
    static Path dir;
    private static TestBroker b;

    @BeforeAll
    static void start() throws Exception {
        b = new TestBroker(dir, """
                storage:
                  backend: kafka
                kafka:
                  bootstrap_servers: "%s"
                  lock_duration_ms: 6000
                  replication_factor: 1
                  min_insync_replicas: 1
                node:
                  id: "test-a"
                """.formatted(KafkaCluster.shared().bootstrap()), Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        b.close();
    }

    private static JsonNode ok(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        return TestBroker.json(r);
    }

    @Test
    void pushPullLeaseAndAckShouldWorkOverKafka() throws Exception {
        String q = "orders-" + System.nanoTime();
        ok(b.admin("POST", "/queues/" + q, "{\"max_length\":100}"), 201);
        JsonNode pushed = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":1}}"), 201);
        assertEquals("replicated", pushed.path("durability").asText());
        JsonNode batch = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch",
                "[{\"body\":{\"n\":2}},{\"body\":{\"n\":3}}]"), 201);
        assertEquals("replicated", batch.path("durability").asText());

        JsonNode first = ok(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first?wait=10", null), 200);
        assertEquals(1, first.path("body").path("n").asInt());
        JsonNode leased = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=1&visibility=5&wait=10", null), 200);
        assertEquals(2, leased.get(0).path("body").path("n").asInt());
        String lease = leased.get(0).path("lease").asText();
        JsonNode acked = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/acks", "{\"leases\":[\"" + lease + "\"]}"), 200);
        assertEquals(1, acked.path("acked").asInt(), acked.toString());
        JsonNode rest = ok(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=10&wait=10", null), 200);
        assertEquals(3, rest.get(0).path("body").path("n").asInt());

        JsonNode stats = ok(b.as(Role.BASIC, "GET", "/queues/" + q, null), 200);
        assertEquals("kafka", stats.path("backend").asText());
        assertFalse(stats.path("guarantees").path("exact_max_length").asBoolean());
        // Issue 21, defect 2: leases as long as on Chronicle (the node renews Kafka's lock while they last).
        assertEquals(43_200, stats.path("guarantees").path("max_visibility_seconds").asInt());
        assertTrue(stats.path("guarantees").path("renew").asBoolean(), stats.toString());
        assertEquals(3, stats.path("total_pushed").asInt());
        // Issue 21: the replication Kafka has, as configured (1 and 1 on this one-broker cluster).
        assertEquals(1, stats.path("replication").path("factor").asInt(), stats.toString());
        assertEquals(1, stats.path("replication").path("min_insync_replicas").asInt(), stats.toString());
        assertEquals(1, stats.path("replication").path("in_sync").asInt(), stats.toString());
        assertTrue(ok(b.as(Role.BASIC, "GET", "/queues", null), 200).toString().contains(q));
    }

    /**
     * Every route of the API, once, over Kafka: each answers what the OpenAPI document says (checked by
     * {@link TestBroker#send}) with the status it has on Chronicle (renewals too, since issue 21).
     * The routes called are held to the broker's own list, so a new route fails this test until it is covered.
     */
    @Test
    void everyRouteShouldAnswerOverKafka() throws Exception {
        String q = "every-" + System.nanoTime();
        String u = "user-" + System.nanoTime();
        java.util.Set<String> called = new java.util.TreeSet<>();
        java.util.function.BiConsumer<String, String> route = (m, t) -> called.add(m + " " + t);
        String agent = b.tokens.get(Role.AGENT);

        route.accept("POST", "/queues/{name}");
        ok(b.admin("POST", "/queues/" + q, "{\"max_deliveries\":3}"), 201);
        route.accept("GET", "/queues");
        ok(b.as(Role.BASIC, "GET", "/queues", null), 200);
        route.accept("GET", "/queues/{name}");
        ok(b.as(Role.BASIC, "GET", "/queues/" + q, null), 200);
        route.accept("POST", "/queues/{name}/messages");
        ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":1}}"), 201);
        route.accept("POST", "/queues/{name}/messages/batch");
        ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch", "[{\"body\":{\"n\":2}},{\"body\":{\"n\":3}}]"), 201);
        route.accept("GET", "/queues/{name}/messages/first");
        assertEquals(1, ok(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first?wait=10", null), 200)
                .path("body").path("n").asInt());
        route.accept("POST", "/queues/{name}/leases");
        String lease = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=1&visibility=5&wait=10", null), 200)
                .get(0).path("lease").asText();
        route.accept("POST", "/queues/{name}/renewals");
        assertEquals(1, ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/renewals", "{\"leases\":[\"" + lease
                + "\"],\"visibility_seconds\":20}"), 200).path("renewed").asInt());
        route.accept("POST", "/queues/{name}/nacks");
        assertEquals(1, ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/nacks", "{\"leases\":[\"" + lease + "\"]}"), 200)
                .path("released").asInt());
        JsonNode again = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=1&visibility=5&wait=10", null), 200);
        assertEquals(2, again.get(0).path("body").path("n").asInt(), "the nacked message comes back first");
        route.accept("POST", "/queues/{name}/acks");
        assertEquals(1, ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/acks",
                "{\"leases\":[\"" + again.get(0).path("lease").asText() + "\"]}"), 200).path("acked").asInt());
        route.accept("GET", "/queues/{name}/messages");
        assertEquals(3, ok(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=5&wait=10", null), 200)
                .get(0).path("body").path("n").asInt());
        route.accept("POST", "/queues/{name}/redrive");
        ok(b.admin("POST", "/queues/" + q + "/redrive", null), 200);

        // Named subscriptions are not built on Kafka yet: every route says so, as a problem, never a 500.
        String sub = "/queues/" + q + "/subscriptions/s";
        for (String[] m : new String[][] {{"POST", "/queues/{name}/subscriptions/{sub}", sub, "ADMINISTRATOR"},
                {"GET", "/queues/{name}/subscriptions", "/queues/" + q + "/subscriptions", "BASIC"},
                {"GET", "/queues/{name}/subscriptions/{sub}", sub, "BASIC"},
                {"DELETE", "/queues/{name}/subscriptions/{sub}", sub, "ADMINISTRATOR"},
                {"POST", "/queues/{name}/subscriptions/{sub}/seek", sub + "/seek", "ADMINISTRATOR"},
                {"POST", "/queues/{name}/subscriptions/{sub}/pause", sub + "/pause", "ADMINISTRATOR"},
                {"POST", "/queues/{name}/subscriptions/{sub}/resume", sub + "/resume", "ADMINISTRATOR"},
                {"POST", "/queues/{name}/subscriptions/{sub}/redrive", sub + "/redrive", "ADMINISTRATOR"},
                {"GET", "/queues/{name}/subscriptions/{sub}/messages", sub + "/messages", "AGENT"},
                {"GET", "/queues/{name}/subscriptions/{sub}/messages/first", sub + "/messages/first", "AGENT"},
                {"POST", "/queues/{name}/subscriptions/{sub}/leases", sub + "/leases", "AGENT"},
                {"POST", "/queues/{name}/subscriptions/{sub}/acks", sub + "/acks", "AGENT"},
                {"POST", "/queues/{name}/subscriptions/{sub}/nacks", sub + "/nacks", "AGENT"},
                {"POST", "/queues/{name}/subscriptions/{sub}/renewals", sub + "/renewals", "AGENT"}}) {
            route.accept(m[0], m[1]);
            String body = m[2].endsWith("/seek") ? "{\"start\":\"earliest\"}"
                    : m[2].matches(".*/(acks|nacks|renewals)") ? "{\"leases\":[\"x\"]}" : null;
            HttpResponse<String> r = b.as(Role.valueOf(m[3]), m[0], m[2], body);
            assertEquals(501, r.statusCode(), m[0] + " " + m[2] + ": " + r.body());
            assertEquals("NOT_IMPLEMENTED", TestBroker.json(r).path("code").asText(), r.body());
        }

        route.accept("GET", "/users");
        ok(b.admin("GET", "/users", null), 200);
        route.accept("POST", "/users/{name}");
        ok(b.admin("POST", "/users/" + u, "{\"role\":\"BASIC\",\"password\":\"" + TestBroker.PASSWORD + "\"}"), 201);
        route.accept("PUT", "/users/{name}/password");
        ok(b.admin("PUT", "/users/" + u + "/password", "{\"password\":\"another " + TestBroker.PASSWORD + "\"}"), 200);
        route.accept("POST", "/login");
        String token = ok(b.send("POST", "/login", null, "{\"username\":\"" + u + "\",\"password\":\"another "
                + TestBroker.PASSWORD + "\"}"), 200).path("token").asText();
        route.accept("POST", "/logout");
        ok(b.send("POST", "/logout", token, null), 200);
        route.accept("DELETE", "/users/{name}");
        ok(b.admin("DELETE", "/users/" + u, null), 200);

        for (String path : List.of("/health", "/health/live", "/health/ready", "/metrics", "/openapi.yaml",
                "/overview", "/", "/ui/{file}")) {
            route.accept("GET", path);
            HttpResponse<String> r = b.send("GET", path.replace("{file}", "app.js"), b.tokens.get(Role.ADMINISTRATOR), null);
            assertEquals(200, r.statusCode(), path + ": " + r.body());
        }
        JsonNode ready = ok(b.send("GET", "/health/ready", null, null), 200);
        assertTrue(ready.path("checks").path("kafka").path("ok").asBoolean(), "the Kafka check: " + ready);
        route.accept("DELETE", "/queues/{name}");
        ok(b.admin("DELETE", "/queues/" + q, null), 200);
        assertEquals(404, b.as(Role.BASIC, "GET", "/queues/" + q, null).statusCode());
        assertEquals(agent, b.tokens.get(Role.AGENT));
        assertEquals(new java.util.TreeSet<>(b.broker.routes()), called);
    }

    @Test
    void whatKafkaCannotHonourShouldBeA400NamingTheLimit() throws Exception {
        String q = "limits-" + System.nanoTime();
        HttpResponse<String> one = b.admin("POST", "/queues/" + q, "{\"max_deliveries\":1}");
        assertEquals(400, one.statusCode());
        assertTrue(one.body().contains("2..25"), one.body());
        // 0 means "never dead-letter", which Kafka's share groups cannot do: refused, not turned into 25 (issue 21).
        HttpResponse<String> never = b.admin("POST", "/queues/" + q, "{\"max_deliveries\":0}");
        assertEquals(400, never.statusCode(), never.body());
        assertTrue(never.body().contains("never dead-letter") && never.body().contains("2..25"), never.body());
        assertEquals(404, b.admin("GET", "/queues/" + q, null).statusCode(), "a refused create leaves nothing");
        ok(b.admin("POST", "/queues/" + q, "{\"max_deliveries\":3}"), 201);
        // Leases longer than Kafka's lock (6 s here), renewals and delayed nacks are taken as on Chronicle now
        // (issue 21, defect 2); a lease beyond queues.max_visibility_seconds is refused on both backends.
        assertEquals(200, b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=60", null).statusCode());
        HttpResponse<String> vis = b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?visibility=43201", null);
        assertEquals(400, vis.statusCode(), vis.body());
        HttpResponse<String> renew = b.as(Role.AGENT, "POST", "/queues/" + q + "/renewals", "{\"leases\":[\"x\"]}");
        assertEquals(200, renew.statusCode(), renew.body());
        assertEquals("unknown", dev.spool.broker.http.Json.MAPPER.readTree(renew.body()).path("rejected").get(0).path("reason").asText());
        HttpResponse<String> delayed = b.as(Role.AGENT, "POST", "/queues/" + q + "/nacks",
                "{\"leases\":[\"x\"],\"delay_seconds\":5}");
        assertEquals(200, delayed.statusCode(), delayed.body());
    }

    /**
     * Issue 21, defect 9: a long poll whose client hangs up is dropped by the node's consumer loop, so the next
     * message goes to a client that is there (the store used to take it for the gone one: lost). Also, waits inside
     * the store count in {@code waiting_requests} now (always 0 before).
     */
    @Test
    void aLongPollWhoseClientHangsUpShouldNotTakeTheNextMessage() throws Exception {
        String q = "gone-" + System.nanoTime();
        ok(b.admin("POST", "/queues/" + q, "{\"max_deliveries\":3}"), 201);
        try (java.net.Socket s = RawClient.connect(b, 1)) {
            RawClient.write(s, "GET /queues/" + q + "/messages?wait=30 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                    + b.tokens.get(Role.AGENT) + "\r\n\r\n");
            awaitWaiting(q, 1);
        } // the client hangs up
        awaitWaiting(q, 0);
        ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":7}}"), 201);
        JsonNode got = ok(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?wait=10", null), 200);
        assertEquals(7, got.path(0).path("body").path("n").asInt(), "the message reached the client that is there: "
                + got);
    }

    private static void awaitWaiting(String q, int n) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        int now;
        while ((now = ok(b.as(Role.BASIC, "GET", "/queues/" + q, null), 200).path("waiting_requests").asInt()) != n) {
            assertTrue(System.nanoTime() < deadline, "waiting_requests " + now + ", expected " + n);
            Thread.sleep(20); // polling the stats route
        }
    }
}
