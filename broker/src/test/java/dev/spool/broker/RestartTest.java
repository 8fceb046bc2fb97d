package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Restarts a real broker process (SIGTERM, then SIGKILL): messages, queues and tokens survive. */
class RestartTest {

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private final StringBuffer output = new StringBuffer();
    /** Every child started, killed after the test whatever its outcome (a failed assertion leaves none running). */
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killChildren() {
        started.forEach(Process::destroyForcibly);
    }

    private ChildBrokers.Child startBroker() throws Exception {
        return ChildBrokers.start(dir.resolve("config.yaml"), started, output);
    }

    private HttpResponse<String> call(ChildBrokers.Child c, String method, String path, String token, String body) throws Exception {
        return ChildBrokers.call(http, c.port(), method, path, token, body);
    }

    private HttpResponse<String> pushKeyed(ChildBrokers.Child c, String token, String queue, String body, String key) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + c.port() + "/queues/" + queue + "/messages"))
                .timeout(Duration.ofSeconds(30)).header("Authorization", token).header("Content-Type", "application/json")
                .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    private void setUp() throws Exception {
        Files.writeString(dir.resolve("config.yaml"), """
                QueueManager:
                  path: "data/queues.json"
                server:
                  port: 0
                """);
        UserStore users = UserStore.load(dir.resolve("users.yaml"));
        users.put("admin", Role.ADMINISTRATOR, TestBroker.PASSWORD.toCharArray());
        users.put("worker", Role.AGENT, TestBroker.PASSWORD.toCharArray());
    }

    @Test
    @Timeout(180)
    void killMinusNineShouldKeepAcksForgetLeasesAndRememberIdempotencyKeys() throws Exception {
        setUp();
        ChildBrokers.Child first = startBroker();
        String admin = login(first, "admin");
        String worker = login(first, "worker");
        assertEquals(201, call(first, "POST", "/queues/work", admin, null).statusCode());
        for (int i = 1; i <= 5; i++) {
            HttpResponse<String> r = pushKeyed(first, worker, "work", "{\"body\":{\"n\":" + i + "}}", "k" + i);
            assertEquals(i, TestBroker.JSON.readTree(r.body()).path("id").asInt(), r.body());
        }
        JsonNode leased = TestBroker.JSON.readTree(call(first, "POST", "/queues/work/leases?max=3", worker, null).body());
        assertEquals(3, leased.size());
        String lease2 = leased.get(1).path("lease").asText();
        JsonNode ack = TestBroker.JSON.readTree(call(first, "POST", "/queues/work/acks", worker,
                "{\"leases\":[\"" + lease2 + "\"]}").body());
        assertEquals(1, ack.path("acked").asInt());
        first.process().destroyForcibly(); // kill -9 with leases 1 and 3 open
        assertTrue(first.process().waitFor(30, TimeUnit.SECONDS));

        ChildBrokers.Child second = startBroker();
        HttpResponse<String> retry = pushKeyed(second, worker, "work", "{\"body\":{\"n\":3}}", "k3");
        JsonNode dup = TestBroker.JSON.readTree(retry.body());
        assertEquals(3, dup.path("id").asInt(), "the key outlived the kill: " + retry.body());
        assertTrue(dup.path("duplicate").asBoolean());
        assertEquals(4, TestBroker.JSON.readTree(call(second, "GET", "/queues/work", worker, null).body())
                .path("depth").asInt(), "unacknowledged 1, 3, 4, 5");
        JsonNode again = TestBroker.JSON.readTree(call(second, "POST", "/queues/work/leases?max=10", worker, null).body());
        List<Integer> ids = new ArrayList<>();
        again.forEach(m -> ids.add(m.path("id").asInt()));
        assertEquals(List.of(1, 3, 4, 5), ids, "acked 2 never comes back; leased 1 and 3 do");
        assertEquals(2, again.get(0).path("delivery").asInt());
        assertEquals(1, again.get(2).path("delivery").asInt());
        StringBuilder all = new StringBuilder();
        again.forEach(m -> all.append(all.length() == 0 ? "" : ",").append('"').append(m.path("lease").asText()).append('"'));
        assertEquals(4, TestBroker.JSON.readTree(call(second, "POST", "/queues/work/acks", worker,
                "{\"leases\":[" + all + "]}").body()).path("acked").asInt());
        second.process().destroyForcibly();
        assertTrue(second.process().waitFor(30, TimeUnit.SECONDS));

        ChildBrokers.Child third = startBroker();
        assertEquals("[]", call(third, "POST", "/queues/work/leases?max=10", worker, null).body());
        assertEquals(0, TestBroker.JSON.readTree(call(third, "GET", "/queues/work", worker, null).body()).path("depth").asInt());
        third.process().destroy();
        assertTrue(third.process().waitFor(30, TimeUnit.SECONDS));
    }

    private String login(ChildBrokers.Child c, String user) throws Exception {
        HttpResponse<String> r = call(c, "POST", "/login", null,
                "{\"username\":\"" + user + "\",\"password\":\"" + TestBroker.PASSWORD + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        return TestBroker.JSON.readTree(r.body()).get("token").asText();
    }

    @Test
    @Timeout(180)
    void messagesQueuesAndTokensShouldSurviveRestartAndKill() throws Exception {
        setUp();

        ChildBrokers.Child first = startBroker();
        String admin = login(first, "admin");
        String worker = login(first, "worker");
        assertEquals(201, call(first, "POST", "/queues/jobs", admin, "{\"type\":\"result\",\"max_length\":50}").statusCode());
        for (int i = 1; i <= 3; i++) {
            String msg = "{\"body\":{\"result_id\":\"r" + i + "\",\"transaction_id\":\"t\",\"timestamp\":"
                    + "\"2026-11-27T10:00:00Z\",\"is_fraudulent\":false,\"confidence\":0.5}}";
            assertEquals(201, call(first, "POST", "/queues/jobs/messages", worker, msg).statusCode());
        }
        first.process().destroy(); // SIGTERM: clean shutdown with a final checkpoint
        assertTrue(first.process().waitFor(30, TimeUnit.SECONDS), "SIGTERM should stop the broker promptly");

        ChildBrokers.Child second = startBroker();
        HttpResponse<String> list = call(second, "GET", "/queues", worker, null);
        assertEquals(200, list.statusCode(), "the token survives a restart: " + list.body());
        assertTrue(list.body().contains("jobs"));
        JsonNode stats = TestBroker.JSON.readTree(call(second, "GET", "/queues/jobs", worker, null).body());
        assertEquals(3, stats.path("depth").asInt());
        assertEquals("result", stats.path("type").asText());
        assertEquals(50, stats.path("max_length").asInt());
        JsonNode m1 = TestBroker.JSON.readTree(call(second, "GET", "/queues/jobs/messages/first", worker, null).body());
        assertEquals("r1", m1.path("body").path("result_id").asText());
        second.process().destroyForcibly(); // SIGKILL: no shutdown hook, no final checkpoint
        assertTrue(second.process().waitFor(30, TimeUnit.SECONDS));

        ChildBrokers.Child third = startBroker();
        JsonNode m2 = TestBroker.JSON.readTree(call(third, "GET", "/queues/jobs/messages/first", worker, null).body());
        assertEquals("r2", m2.path("body").path("result_id").asText(), "r1 was pulled before the kill");
        assertEquals(1, TestBroker.JSON.readTree(call(third, "GET", "/queues/jobs", worker, null).body())
                .path("depth").asInt());
        third.process().destroy();
        assertTrue(third.process().waitFor(30, TimeUnit.SECONDS));

        String all = output.toString();
        assertFalse(all.contains(admin) || all.contains(worker), "a token appeared in the broker's output");
        assertFalse(all.contains(TestBroker.PASSWORD), "a password appeared in the broker's output");
    }
}
