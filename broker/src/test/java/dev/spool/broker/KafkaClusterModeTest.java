package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import dev.spool.storage.ChildJvm;
import dev.spool.storage.kafka.KafkaCluster;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cluster mode for real: three KRaft nodes (child JVMs, replication factor 3, min in-sync 2) and Spool nodes
 * over them (two in this JVM, one more as a child JVM that is killed with {@code kill -9}). A lease issued by one
 * node is acked through another; tokens, users and idempotency keys are the cluster's; killing the partition
 * leader loses nothing acknowledged and brings back nothing acked; killing a Spool node that holds leases returns
 * its messages with a higher delivery count. Runs with {@code -Pkafka}.
 */
class KafkaClusterModeTest {
    @TempDir
    static Path dir;
    private static KafkaCluster kafka;
    private static String bootstrap;
    private static TestBroker a;
    private static TestBroker b;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaCluster.start(Files.createDirectories(dir.resolve("kafka")), 3);
        bootstrap = kafka.bootstrap(); // all three, whichever is down later
        a = new TestBroker(Files.createDirectories(dir.resolve("a")), nodeYaml("a"), Clock.systemUTC());
        b = new TestBroker(Files.createDirectories(dir.resolve("b")), nodeYaml("b"), Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static String nodeYaml(String id) {
        return """
                storage:
                  backend: kafka
                kafka:
                  bootstrap_servers: "%s"
                  lock_duration_ms: 6000
                  prefetch_hold_ms: 500
                node:
                  id: "%s"
                """.formatted(bootstrap, id);
    }

    private static JsonNode ok(HttpResponse<String> r, int status) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        return TestBroker.json(r);
    }

    /** Waits until {@code node} has read queue {@code q}'s creation from the catalog (at most 15 s). */
    private static void awaitSeen(TestBroker node, String q) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
        while (node.as(Role.BASIC, "GET", "/queues/" + q, null).statusCode() != 200) {
            assertTrue(System.nanoTime() < deadline, "node never saw queue " + q);
            Thread.onSpinWait();
        }
    }

    private static String queue(String prefix) throws Exception {
        String q = prefix + "-" + System.nanoTime();
        ok(a.admin("POST", "/queues/" + q, "{\"max_length\":100000}"), 201);
        return q;
    }

    @Test
    void aLeaseIssuedByOneNodeShouldBeAckedThroughAnother() throws Exception {
        String q = queue("forward");
        ok(a.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":1}}"), 201);
        JsonNode leased = ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=1&visibility=5&wait=15", null), 200);
        assertEquals(1, leased.size(), leased.toString());
        String lease = leased.get(0).path("lease").asText();
        assertTrue(lease.startsWith("b."), "a lease names the node that holds it: " + lease);

        JsonNode acked = ok(a.as(Role.AGENT, "POST", "/queues/" + q + "/acks", "{\"leases\":[\"" + lease + "\"]}"), 200);
        assertEquals(1, acked.path("acked").asInt(), acked.toString());
        assertEquals(0, acked.path("rejected").size(), acked.toString());

        // Acked for good: neither node hands it out again, and a second ack through either node is refused.
        assertEquals(0, ok(a.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=1&visibility=5&wait=7", null), 200).size());
        assertEquals(0, ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=1&visibility=5&wait=1", null), 200).size());
        JsonNode again = ok(a.as(Role.AGENT, "POST", "/queues/" + q + "/acks", "{\"leases\":[\"" + lease + "\"]}"), 200);
        assertEquals(0, again.path("acked").asInt(), again.toString());
        assertEquals(lease, again.path("rejected").get(0).path("lease").asText());
    }

    @Test
    void aLeaseOnAnHttpsOnlyNodeShouldBeAckedThroughAnotherThatSharesItsKeystore() throws Exception {
        // Two more nodes, HTTPS only, with one self-signed certificate between them (no trust store configured):
        // a node trusts the certificates of its own keystore when it forwards.
        Path ks = TestKeystore.make(Files.createDirectories(dir.resolve("tls")).resolve("cluster.p12"));
        String tls = "server.tls: {keystore: \"" + ks + "\", password: \"" + TestKeystore.PASSWORD
                + "\", port: 0, plain_http: false}\n";
        try (TestBroker c = new TestBroker(Files.createDirectories(dir.resolve("c")), tls + nodeYaml("c"), Clock.systemUTC());
             TestBroker d = new TestBroker(Files.createDirectories(dir.resolve("d")), tls + nodeYaml("d"), Clock.systemUTC())) {
            assertTrue(c.url("/").startsWith("https://"), c.url("/"));
            String q = queue("forward-tls");
            // Made on node a: c and d learn of it from the catalog within milliseconds (the cluster contract).
            awaitSeen(c, q);
            awaitSeen(d, q);
            ok(c.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":1}}"), 201);
            JsonNode leased = ok(d.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=1&visibility=5&wait=15", null), 200);
            assertEquals(1, leased.size(), leased.toString());
            String lease = leased.get(0).path("lease").asText();
            assertTrue(lease.startsWith("d."), lease);
            JsonNode acked = ok(c.as(Role.AGENT, "POST", "/queues/" + q + "/acks", "{\"leases\":[\"" + lease + "\"]}"), 200);
            assertEquals(1, acked.path("acked").asInt(), "forwarded over HTTPS and acked: " + acked);
            JsonNode again = ok(d.as(Role.AGENT, "POST", "/queues/" + q + "/acks", "{\"leases\":[\"" + lease + "\"]}"), 200);
            assertEquals(0, again.path("acked").asInt(), "the owner settled it: " + again);
            // A node without the keystore does not trust d's certificate: the outcome is unknown, so 503.
            HttpResponse<String> untrusted = a.as(Role.AGENT, "POST", "/queues/" + q + "/acks",
                    "{\"leases\":[\"" + lease + "\"]}");
            assertEquals(503, untrusted.statusCode(), untrusted.body());
        }
    }

    @Test
    void tokensAndUsersShouldBeTheClustersOnEveryNode() throws Exception {
        String user = "carol-" + System.nanoTime();
        ok(b.admin("POST", "/users/" + user, "{\"role\":\"AGENT\",\"password\":\"" + TestBroker.PASSWORD + "\"}"), 201);
        // Created on b, signs in on a; the token a issues is good on b at once.
        String token = ok(a.send("POST", "/login", null,
                "{\"username\":\"" + user + "\",\"password\":\"" + TestBroker.PASSWORD + "\"}"), 200).path("token").asText();
        assertEquals(200, b.send("GET", "/queues", token, null).statusCode());
        assertTrue(ok(a.admin("GET", "/users", null), 200).toString().contains(user));

        // Signed out on b: refused on a as soon as a has read the revocation from Kafka (the contract says within
        // milliseconds; a request a receives before then is still served, and a CI run once caught one).
        assertEquals(200, b.send("POST", "/logout", token, null).statusCode());
        awaitRefused("a token signed out on b, used on a", () -> a.send("GET", "/queues", token, null).statusCode());

        // Deleted on a: its other tokens are refused on b, and so is its password.
        String second = ok(b.send("POST", "/login", null,
                "{\"username\":\"" + user + "\",\"password\":\"" + TestBroker.PASSWORD + "\"}"), 200).path("token").asText();
        assertEquals(200, a.admin("DELETE", "/users/" + user, null).statusCode());
        awaitRefused("a token of a user deleted on a, used on b", () -> b.send("GET", "/queues", second, null).statusCode());
        assertEquals(401, b.send("POST", "/login", null,
                "{\"username\":\"" + user + "\",\"password\":\"" + TestBroker.PASSWORD + "\"}").statusCode());
    }

    /**
     * Asks until the answer is 401, failing if it is still served after 5 s (a change another node never reads
     * would fail this); prints how long the change took to arrive. Any answer but 200 or 401 fails at once.
     */
    private static void awaitRefused(String what, java.util.concurrent.Callable<Integer> ask) throws Exception {
        long start = System.nanoTime();
        int asked = 0;
        while (true) {
            int status = ask.call();
            asked++;
            if (status == 401) {
                System.out.printf("CLUSTER-AUTH | %s: refused after %.1f ms (%d requests)%n", what,
                        (System.nanoTime() - start) / 1e6, asked);
                return;
            }
            assertEquals(200, status, what);
            assertTrue(System.nanoTime() - start < java.util.concurrent.TimeUnit.SECONDS.toNanos(5),
                    what + ": still served 5 s after the change");
        }
    }

    @Test
    void theUserCommandShouldChangeTheClustersUsers() throws Exception {
        String user = "dave-" + System.nanoTime();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int status = Main.execute(new String[] {"user", "add", user, "--role", "SECRETARY", "--config",
                        a.dir.resolve("config.yaml").toString()},
                new java.io.ByteArrayInputStream((TestBroker.PASSWORD + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                new java.io.PrintStream(out, true), new java.io.PrintStream(err, true));
        assertEquals(0, status, err.toString());
        // Written to Kafka, not to a's users file: b, which never read that file, signs the user in.
        assertEquals(200, b.send("POST", "/login", null,
                "{\"username\":\"" + user + "\",\"password\":\"" + TestBroker.PASSWORD + "\"}").statusCode());
        assertTrue(!Files.readString(a.dir.resolve("users.yaml")).contains(user), "the file only seeds an empty cluster");
    }

    @Test
    void anIdempotencyKeyShouldHoldAcrossNodes() throws Exception {
        String q = queue("keys");
        HttpResponse<String> first = pushKeyed(a, q, "{\"body\":{\"n\":1}}", "order-17");
        HttpResponse<String> retry = pushKeyed(b, q, "{\"body\":{\"n\":1}}", "order-17");
        assertEquals(201, first.statusCode(), first.body());
        assertEquals(201, retry.statusCode(), retry.body());
        assertTrue(TestBroker.json(retry).path("duplicate").asBoolean(), retry.body());
        assertEquals(TestBroker.json(first).path("id").asLong(), TestBroker.json(retry).path("id").asLong());
        JsonNode all = ok(b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=10&wait=10", null), 200);
        assertEquals(1, all.size(), all.toString());
        assertEquals(0, ok(a.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=10&wait=3", null), 200).size());
    }

    private HttpResponse<String> pushKeyed(TestBroker node, String q, String body, String key) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(node.url("/queues/" + q + "/messages")))
                .timeout(Duration.ofSeconds(30)).header("Authorization", node.tokens.get(Role.AGENT))
                .header("Content-Type", "application/json").header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.send(req, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void killingThePartitionLeaderShouldLoseNothingAcknowledgedAndReturnNothingAcked() throws Exception {
        Set<String> before = topics();
        String q = queue("leader");
        String topic = topics().stream().filter(t -> !before.contains(t) && t.startsWith("spool.q.")).findFirst()
                .orElseThrow();
        int leader;
        try (Admin admin = kafka.admin()) {
            leader = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
                    .partitions().get(0).leader().id();
        }
        int total = 200;
        Set<Integer> acknowledged = ConcurrentHashMap.newKeySet();
        Set<Integer> acked = ConcurrentHashMap.newKeySet();
        List<String> violations = new ArrayList<>();
        AtomicInteger pushed = new AtomicInteger();
        Thread pusher = new Thread(() -> {
            for (int n = 0; n < total; n++) {
                TestBroker node = n % 2 == 0 ? a : b;
                try {
                    HttpResponse<String> r = node.as(Role.AGENT, "POST", "/queues/" + q + "/messages",
                            "{\"body\":{\"n\":" + n + "}}");
                    if (r.statusCode() == 201) {
                        acknowledged.add(n);
                    }
                } catch (Exception e) {
                    // not acknowledged: it may or may not arrive
                }
                pushed.incrementAndGet();
            }
        });
        pusher.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        boolean killed = false;
        int round = 0;
        try {
            while (System.nanoTime() < deadline && (pusher.isAlive() || !acked.containsAll(acknowledged))) {
                if (!killed && pushed.get() >= total / 3) {
                    kafka.kill(kafka.indexOf(leader));
                    killed = true;
                }
                TestBroker leaseOn = round % 2 == 0 ? b : a;
                TestBroker ackOn = round++ % 3 == 0 ? leaseOn : (leaseOn == a ? b : a);
                HttpResponse<String> r = leaseOn.as(Role.AGENT, "POST", "/queues/" + q
                        + "/leases?max=20&visibility=5&wait=1", null);
                if (r.statusCode() != 200) {
                    continue; // the cluster is electing a leader: try again
                }
                JsonNode got = TestBroker.json(r);
                List<String> leases = new ArrayList<>();
                Map<String, Integer> byLease = new java.util.HashMap<>();
                for (JsonNode m : got) {
                    int n = m.path("body").path("n").asInt();
                    if (acked.contains(n)) {
                        violations.add("message " + n + " came back after its ack was accepted");
                    }
                    leases.add(m.path("lease").asText());
                    byLease.put(m.path("lease").asText(), n);
                }
                if (leases.isEmpty()) {
                    continue;
                }
                HttpResponse<String> ack = ackOn.as(Role.AGENT, "POST", "/queues/" + q + "/acks",
                        TestBroker.JSON.createObjectNode().set("leases", TestBroker.JSON.valueToTree(leases)).toString());
                if (ack.statusCode() == 200) {
                    Set<String> refused = new HashSet<>();
                    TestBroker.json(ack).path("rejected").forEach(x -> refused.add(x.path("lease").asText()));
                    byLease.forEach((l, n) -> {
                        if (!refused.contains(l)) {
                            acked.add(n);
                        }
                    });
                }
            }
            pusher.join(60_000);
        } finally {
            kafka.startNode(kafka.indexOf(leader));
            // Back before the next test: a queue is not created with fewer brokers alive than its replicas.
            kafka.awaitReady(java.time.Duration.ofSeconds(120));
        }
        assertTrue(killed, "the leader was killed mid-stream");
        assertTrue(acknowledged.size() > total / 2, "most pushes were acknowledged: " + acknowledged.size());
        Set<Integer> lost = new HashSet<>(acknowledged);
        lost.removeAll(acked);
        assertEquals(Set.of(), lost, "acknowledged pushes never delivered and acked");
        assertEquals(List.of(), violations);
    }

    private Set<String> topics() throws Exception {
        try (Admin admin = kafka.admin()) {
            return admin.listTopics().names().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void killingASpoolNodeShouldReturnItsLeasedMessagesWithAHigherDeliveryCountAndKeepItsKeys() throws Exception {
        Path cdir = Files.createDirectories(dir.resolve("c"));
        Files.writeString(cdir.resolve("config.yaml"), """
                QueueManager:
                  path: "data/queues.json"
                server:
                  host: "127.0.0.1"
                  port: 0
                auth:
                  users_file: "users.yaml"
                audit:
                  file: "message_queue.log"
                """ + nodeYaml("c"));
        Process c = new ProcessBuilder(ChildJvm.command(Main.class.getName(), "--config",
                cdir.resolve("config.yaml").toString())).redirectErrorStream(true).start();
        try {
            StringBuffer log = new StringBuffer();
            int port = ChildBrokers.awaitListening(c.getInputStream(), log);
            String q = queue("crash");
            for (int n = 0; n < 3; n++) {
                ok(a.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"n\":" + n + "}}"), 201);
            }
            // The token a issued works on c: the sessions are the cluster's.
            HttpResponse<String> r = ChildBrokers.call(http, port, "POST", "/queues/" + q + "/leases?max=3&visibility=5&wait=15",
                    a.tokens.get(Role.AGENT), null);
            JsonNode held = ok(r, 200);
            assertEquals(3, held.size(), held.toString());
            Map<Integer, Integer> deliveryOnC = new java.util.HashMap<>();
            held.forEach(m -> deliveryOnC.put(m.path("body").path("n").asInt(), m.path("delivery").asInt()));
            // A keyed push answered by c, then c dies: the client's retry on another node is recognised.
            String keyed = "keyed-" + System.nanoTime();
            ok(a.admin("POST", "/queues/" + keyed, null), 201);
            HttpResponse<String> onC = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                            + "/queues/" + keyed + "/messages")).header("Authorization", a.tokens.get(Role.AGENT))
                    .header("Content-Type", "application/json").header("Idempotency-Key", "job-1")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"body\":{\"job\":1}}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(201, onC.statusCode(), onC.body());

            c.destroyForcibly(); // kill -9
            assertTrue(c.waitFor(30, TimeUnit.SECONDS));

            // An ack of c's lease through a goes to c, which is gone: refused as expired, never silently lost.
            JsonNode ack = ok(a.as(Role.AGENT, "POST", "/queues/" + q + "/acks",
                    "{\"leases\":[\"" + held.get(0).path("lease").asText() + "\"]}"), 200);
            assertEquals(0, ack.path("acked").asInt(), ack.toString());
            assertEquals("expired", ack.path("rejected").get(0).path("reason").asText());

            Map<Integer, Integer> again = new java.util.HashMap<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (again.size() < 3 && System.nanoTime() < deadline) {
                for (JsonNode m : ok(b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?max=3&visibility=5&wait=10", null), 200)) {
                    again.put(m.path("body").path("n").asInt(), m.path("delivery").asInt());
                }
            }
            assertEquals(deliveryOnC.keySet(), again.keySet(), "every message c held came back");
            HttpResponse<String> retry = pushKeyed(b, keyed, "{\"body\":{\"job\":1}}", "job-1");
            assertEquals(201, retry.statusCode(), retry.body());
            assertTrue(TestBroker.json(retry).path("duplicate").asBoolean(), retry.body());
            assertEquals(TestBroker.json(onC).path("id").asLong(), TestBroker.json(retry).path("id").asLong());
            again.forEach((n, d) -> assertTrue(d > deliveryOnC.get(n),
                    "message " + n + " delivered " + d + " times after c held it at delivery " + deliveryOnC.get(n)));
        } finally {
            c.destroyForcibly();
        }
    }
}
