package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Black-box tests of every endpoint and error status against a real broker on port 0. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiTest {
    TestBroker b;
    private final AtomicInteger names = new AtomicInteger();

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        b = new TestBroker(dir);
    }

    @AfterAll
    void stop() {
        b.close();
    }

    private String newQueue(String body) throws Exception {
        String name = "q" + names.incrementAndGet();
        assertEquals(201, b.admin("POST", "/queues/" + name, body).statusCode());
        return name;
    }

    private static void assertProblem(HttpResponse<String> r, int status, String code) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals("application/problem+json", r.headers().firstValue("Content-Type").orElse(""));
        JsonNode p = TestBroker.json(r);
        assertEquals(code, p.path("code").asText(), r.body());
        assertEquals(status, p.path("status").asInt());
        assertTrue(p.path("type").isTextual() && p.path("title").isTextual() && p.path("detail").isTextual(), r.body());
    }

    private HttpResponse<String> raw(String method, String path, String contentType, String body) throws Exception {
        HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(b.url(path))).timeout(Duration.ofSeconds(30))
                .header("Authorization", b.tokens.get(Role.ADMINISTRATOR));
        if (contentType != null) {
            rb.header("Content-Type", contentType);
        }
        rb.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return b.http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void loginShouldReturnTokenAndRoleInteger() throws Exception {
        HttpResponse<String> r = b.send("POST", "/login", null,
                "{\"username\":\"agent\",\"password\":\"" + TestBroker.PASSWORD + "\"}");
        assertEquals(200, r.statusCode());
        JsonNode n = TestBroker.json(r);
        assertTrue(n.path("token").asText().length() >= 32);
        assertEquals(3, n.path("role").asInt());
    }

    @Test
    void loginShouldRefuseBadCredentialsWith401() throws Exception {
        assertProblem(b.send("POST", "/login", null, "{\"username\":\"agent\",\"password\":\"nope\"}"), 401,
                "BAD_CREDENTIALS");
        assertProblem(b.send("POST", "/login", null, "{\"username\":\"ghost\",\"password\":\"nope\"}"), 401,
                "BAD_CREDENTIALS");
    }

    @Test
    void loginShouldRefuseMalformedBodies() throws Exception {
        assertProblem(b.send("POST", "/login", null, "{\"username\":"), 400, "MALFORMED_JSON");
        assertProblem(b.send("POST", "/login", null, "{\"username\":\"agent\"}"), 400, "INVALID_REQUEST");
    }

    @Test
    void bothAuthorizationFormsShouldBeAccepted() throws Exception {
        String t = b.tokens.get(Role.BASIC);
        assertEquals(200, b.send("GET", "/queues", t, null).statusCode());
        assertEquals(200, b.send("GET", "/queues", "Bearer " + t, null).statusCode());
    }

    @Test
    void missingOrUnknownTokenShouldBe401() throws Exception {
        assertProblem(b.send("GET", "/queues", null, null), 401, "UNAUTHORIZED");
        assertProblem(b.send("GET", "/queues", "not-a-token", null), 401, "UNAUTHORIZED");
        assertProblem(b.send("GET", "/queues", "Bearer ", null), 401, "UNAUTHORIZED");
    }

    @Test
    void createShouldAnswer201AndListShowTheQueue() throws Exception {
        HttpResponse<String> r = b.admin("POST", "/queues/created-one", null);
        assertEquals(201, r.statusCode());
        assertEquals("{\"result\":\"ok\"}", r.body().replace(" ", ""));
        HttpResponse<String> list = b.as(Role.BASIC, "GET", "/queues", null);
        assertEquals(200, list.statusCode());
        JsonNode arr = TestBroker.json(list);
        assertTrue(arr.isArray());
        boolean found = false;
        for (JsonNode n : arr) {
            found |= n.asText().equals("created-one");
        }
        assertTrue(found, list.body());
    }

    @Test
    void createExistingQueueShouldBe409() throws Exception {
        String q = newQueue(null);
        assertProblem(b.admin("POST", "/queues/" + q, null), 409, "QUEUE_EXISTS");
    }

    @Test
    void createShouldValidateItsBody() throws Exception {
        assertProblem(b.admin("POST", "/queues/badtype", "{\"type\":\"invoice\"}"), 400, "INVALID_REQUEST");
        assertProblem(b.admin("POST", "/queues/badlen", "{\"max_length\":0}"), 400, "INVALID_REQUEST");
        assertProblem(b.admin("POST", "/queues/badfield", "{\"colour\":\"red\"}"), 400, "INVALID_REQUEST");
        assertProblem(b.admin("POST", "/queues/badjson", "{"), 400, "MALFORMED_JSON");
    }

    @Test
    void statsShouldDescribeTheQueue() throws Exception {
        String q = newQueue("{\"type\":\"result\",\"max_length\":5}");
        HttpResponse<String> r = b.as(Role.BASIC, "GET", "/queues/" + q, null);
        assertEquals(200, r.statusCode());
        JsonNode s = TestBroker.json(r);
        assertEquals(q, s.path("name").asText());
        assertEquals(0, s.path("depth").asInt());
        assertEquals(5, s.path("max_length").asInt());
        assertEquals("result", s.path("type").asText());
        assertEquals(0, s.path("total_pushed").asInt());
        assertEquals(0, s.path("total_pulled").asInt());
        assertTrue(s.path("bytes_on_disk").isIntegralNumber());
        assertProblem(b.as(Role.BASIC, "GET", "/queues/nosuchqueue", null), 404, "QUEUE_NOT_FOUND");
    }

    @Test
    void pushAndPullShouldRoundTripInFifoOrder() throws Exception {
        String q = newQueue(null);
        HttpResponse<String> p1 = b.as(Role.AGENT, "POST", "/queues/" + q + "/messages",
                "{\"body\":{\"n\":1},\"metadata\":{\"source\":\"node-7\"}}");
        assertEquals(201, p1.statusCode(), p1.body());
        JsonNode ack = TestBroker.json(p1);
        assertEquals("ok", ack.path("result").asText());
        assertEquals(1, ack.path("id").asLong());
        assertEquals("process", ack.path("durability").asText());
        assertEquals(201, b.as(Role.SECRETARY, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":2}}").statusCode());
        JsonNode m1 = TestBroker.json(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first", null));
        assertEquals(1, m1.path("body").path("n").asInt());
        assertEquals("node-7", m1.path("metadata").path("source").asText());
        assertEquals(1, m1.path("id").asLong());
        JsonNode m2 = TestBroker.json(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first", null));
        assertEquals(2, m2.path("body").path("n").asInt());
        assertTrue(m2.path("metadata").isObject());
        HttpResponse<String> empty = b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first", null);
        assertEquals(200, empty.statusCode());
        assertEquals("null", empty.body());
    }

    @Test
    void pushAndPullOnMissingQueueShouldBe404() throws Exception {
        assertProblem(b.as(Role.AGENT, "POST", "/queues/missing/messages", "{\"body\":{}}"), 404, "QUEUE_NOT_FOUND");
        assertProblem(b.as(Role.AGENT, "GET", "/queues/missing/messages/first", null), 404, "QUEUE_NOT_FOUND");
    }

    @Test
    void pushToFullQueueShouldBe429WithRetryAfterAndStoreNothing() throws Exception {
        String q = newQueue("{\"max_length\":1}");
        assertEquals(201, b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":1}}").statusCode());
        HttpResponse<String> full = b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":2}}");
        assertProblem(full, 429, "QUEUE_FULL");
        assertTrue(full.headers().firstValue("Retry-After").isPresent());
        assertEquals(1, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).path("depth").asInt());
        assertEquals(1, TestBroker.json(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first", null))
                .path("body").path("n").asInt());
    }

    @Test
    void deleteShouldRemoveQueueAndMessages() throws Exception {
        String q = newQueue(null);
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":1}}");
        HttpResponse<String> d = b.admin("DELETE", "/queues/" + q, null);
        assertEquals(200, d.statusCode());
        assertEquals("ok", TestBroker.json(d).path("result").asText());
        assertProblem(b.admin("DELETE", "/queues/" + q, null), 404, "QUEUE_NOT_FOUND");
        assertEquals(201, b.admin("POST", "/queues/" + q, null).statusCode());
        assertEquals("null", b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first", null).body());
    }

    @Test
    void logoutShouldRevokeTheToken() throws Exception {
        HttpResponse<String> login = b.send("POST", "/login", null,
                "{\"username\":\"basic\",\"password\":\"" + TestBroker.PASSWORD + "\"}");
        String t = TestBroker.json(login).path("token").asText();
        assertEquals(200, b.send("GET", "/queues", t, null).statusCode());
        HttpResponse<String> out = b.send("POST", "/logout", "Bearer " + t, null);
        assertEquals(200, out.statusCode());
        assertProblem(b.send("GET", "/queues", t, null), 401, "UNAUTHORIZED");
    }

    @Test
    void malformedMessagesShouldBe400() throws Exception {
        String q = newQueue(null);
        String path = "/queues/" + q + "/messages";
        assertProblem(b.as(Role.AGENT, "POST", path, "{\"body\":"), 400, "MALFORMED_JSON");
        assertProblem(b.as(Role.AGENT, "POST", path, "[1,2]"), 400, "INVALID_MESSAGE");
        assertProblem(b.as(Role.AGENT, "POST", path, "{\"metadata\":{}}"), 400, "INVALID_MESSAGE");
        assertProblem(b.as(Role.AGENT, "POST", path, "{\"body\":\"text\"}"), 400, "INVALID_MESSAGE");
        assertProblem(b.as(Role.AGENT, "POST", path, "{\"body\":{},\"metadata\":[]}"), 400, "INVALID_MESSAGE");
        assertProblem(b.as(Role.AGENT, "POST", path, "{\"body\":{}} trailing"), 400, "MALFORMED_JSON");
        assertProblem(raw("POST", path, null, null), 400, "INVALID_MESSAGE");
        assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).path("depth").asInt());
    }

    @Test
    void nonJsonContentTypeShouldBe415() throws Exception {
        String q = newQueue(null);
        assertProblem(raw("POST", "/queues/" + q + "/messages", "text/plain", "{\"body\":{}}"), 415,
                "UNSUPPORTED_MEDIA_TYPE");
        assertProblem(raw("POST", "/queues/" + q + "/messages", null, "{\"body\":{}}"), 415, "UNSUPPORTED_MEDIA_TYPE");
        assertEquals(201, raw("POST", "/queues/" + q + "/messages", "application/json; charset=utf-8",
                "{\"body\":{}}").statusCode());
    }

    @Test
    void bodilessCreateAndLogoutShouldNotNeedContentType() throws Exception {
        assertEquals(201, raw("POST", "/queues/bodiless", null, null).statusCode());
    }

    @Test
    void oversizedBodyShouldBe413() throws Exception {
        String q = newQueue(null);
        String big = "{\"body\":{\"x\":\"" + "a".repeat((1 << 20) + 10) + "\"}}";
        assertProblem(b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", big), 413, "PAYLOAD_TOO_LARGE");
        assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).path("depth").asInt());
    }

    @Test
    void badQueueNamesShouldBe400() throws Exception {
        assertProblem(b.admin("POST", "/queues/-starts-with-dash", null), 400, "INVALID_QUEUE_NAME");
        assertProblem(b.admin("POST", "/queues/a%2Fb", null), 400, "INVALID_QUEUE_NAME");
        assertProblem(b.admin("POST", "/queues/" + "x".repeat(121), null), 400, "INVALID_QUEUE_NAME");
        assertProblem(b.admin("POST", "/queues/has%20space", null), 400, "INVALID_QUEUE_NAME");
        assertProblem(b.admin("POST", "/queues/.hidden", null), 400, "INVALID_QUEUE_NAME");
        assertProblem(b.as(Role.AGENT, "POST", "/queues/a%2F..%2Fb/messages", "{\"body\":{}}"), 400,
                "INVALID_QUEUE_NAME");
    }

    @Test
    void dotDotPathsShouldNeverReachTheStore() throws Exception {
        for (String p : new String[] {"/queues/..", "/queues/../queues", "/queues/%2E%2E", "/queues/./x/messages"}) {
            HttpResponse<String> r = raw("POST", p, null, null);
            assertTrue(r.statusCode() == 400 || r.statusCode() == 404, p + " -> " + r.statusCode());
            assertEquals("application/problem+json", r.headers().firstValue("Content-Type").orElse(""), p);
        }
        assertFalse(TestBroker.json(b.admin("GET", "/queues", null)).toString().contains(".."));
    }

    @Test
    void unknownRouteShouldBe404AndWrongMethod405() throws Exception {
        assertProblem(b.admin("GET", "/nothing/here", null), 404, "ROUTE_NOT_FOUND");
        assertProblem(b.admin("PUT", "/queues/x", null), 405, "METHOD_NOT_ALLOWED");
        assertProblem(b.admin("DELETE", "/queues", null), 405, "METHOD_NOT_ALLOWED");
    }

    @Test
    void typedQueueShouldValidatePushesAndName422Fields() throws Exception {
        String tx = newQueue("{\"type\":\"transaction\"}");
        String good = "{\"body\":{\"transaction_id\":\"t1\",\"customer\":{\"user_id\":7,\"username\":\"ann\",\"role\":3},"
                + "\"status\":0,\"vendor_id\":\"v9\",\"amount\":12.5}}";
        assertEquals(201, b.as(Role.AGENT, "POST", "/queues/" + tx + "/messages", good).statusCode());
        HttpResponse<String> bad = b.as(Role.AGENT, "POST", "/queues/" + tx + "/messages",
                good.replace("\"status\":0", "\"status\":5"));
        assertProblem(bad, 422, "SCHEMA_VIOLATION");
        assertTrue(TestBroker.json(bad).path("detail").asText().contains("status"));
        HttpResponse<String> noAmount = b.as(Role.AGENT, "POST", "/queues/" + tx + "/messages",
                good.replace(",\"amount\":12.5", ""));
        assertTrue(TestBroker.json(noAmount).path("detail").asText().contains("amount"));
        String res = newQueue("{\"type\":\"result\"}");
        String okResult = "{\"body\":{\"result_id\":\"r1\",\"transaction_id\":\"t1\",\"timestamp\":\"2026-11-27T10:00:00Z\","
                + "\"is_fraudulent\":false,\"confidence\":0.93}}";
        assertEquals(201, b.as(Role.AGENT, "POST", "/queues/" + res + "/messages", okResult).statusCode());
        HttpResponse<String> conf = b.as(Role.AGENT, "POST", "/queues/" + res + "/messages",
                okResult.replace("0.93", "1.5"));
        assertProblem(conf, 422, "SCHEMA_VIOLATION");
        assertTrue(TestBroker.json(conf).path("detail").asText().contains("confidence"));
        assertEquals(1, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + res, null)).path("depth").asInt());
    }

    @Test
    void roleCheckShouldComeBeforeQueueState() throws Exception {
        String q = newQueue("{\"max_length\":1}");
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{}}");
        assertProblem(b.as(Role.BASIC, "POST", "/queues/" + q + "/messages", "{\"body\":{}}"), 403, "FORBIDDEN");
        assertProblem(b.as(Role.BASIC, "POST", "/queues/missing/messages", "{\"body\":{}}"), 403, "FORBIDDEN");
        assertProblem(b.as(Role.SECRETARY, "GET", "/queues/missing/messages/first", null), 403, "FORBIDDEN");
        assertProblem(b.send("POST", "/queues/missing/messages", null, "{\"body\":"), 401, "UNAUTHORIZED");
    }
}
