package dev.spool.client;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 12, Java client: every call against a real broker started from the built jar, in a child process. */
@Timeout(120)
class SpoolClientTest {
    private static Process broker;
    private static Path dir;
    private static String url;
    private static String password;

    @BeforeAll
    static void startBroker() throws Exception {
        Path jar = Path.of(System.getProperty("spool.broker.jar", "../broker/target/spool-broker.jar"));
        assertTrue(Files.isRegularFile(jar), "the broker jar is built before the client module: " + jar);
        dir = Files.createTempDirectory("spool-client");
        Files.writeString(dir.resolve("config.yaml"), "server:\n  port: 0\n");
        broker = new ProcessBuilder("java", "-jar", jar.toAbsolutePath().toString(), "--config",
                dir.resolve("config.yaml").toString()).directory(dir.toFile()).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8));
        Pattern pw = Pattern.compile("password: (\\S+)");
        Pattern port = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
        StringBuilder log = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            log.append(line).append('\n');
            Matcher m = pw.matcher(line);
            if (m.find()) {
                password = m.group(1);
            }
            m = port.matcher(line);
            if (m.find()) {
                url = "http://127.0.0.1:" + m.group(1);
                break;
            }
        }
        assertTrue(url != null && password != null, log.toString());
        Thread drain = new Thread(() -> {
            try {
                out.transferTo(java.io.Writer.nullWriter());
            } catch (java.io.IOException e) {
                // the broker stopped
            }
        });
        drain.setDaemon(true);
        drain.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        broker.destroy();
        broker.waitFor(30, TimeUnit.SECONDS);
    }

    private static SpoolClient admin() {
        return SpoolClient.to(url).credentials("admin", password).build();
    }

    @Test
    void queuesMessagesAndBatches() {
        try (SpoolClient c = admin()) {
            c.create("java-q", Map.of("max_length", 1000));
            assertTrue(c.queues().contains("java-q"));
            long first = c.push("java-q", Map.of("n", 1), Map.of("node", "hpc-1"), null);
            SpoolClient.Message m = c.pull("java-q", 0);
            assertEquals(first, m.id());
            assertEquals(1, m.body().get("n").asInt());
            assertEquals("hpc-1", m.metadata().get("node").asText());
            assertNull(c.pull("java-q", 0));
            List<Map<String, Integer>> bodies = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                bodies.add(Map.of("n", i));
            }
            List<Long> ids = c.pushBatch("java-q", bodies, 10);
            assertEquals(25, ids.size());
            assertEquals(10, c.pullBatch("java-q", 10, 0).size());
            assertEquals(15, c.stats("java-q").get("depth").asInt());
            long a = c.push("java-q", Map.of("x", 1), null, "key-1");
            assertEquals(a, c.push("java-q", Map.of("x", 1), null, "key-1"), "the same key answers the same id");
            assertEquals(16, c.stats("java-q").get("depth").asInt(), "stored once");
            c.delete("java-q");
            assertFalse(c.queues().contains("java-q"));
        }
    }

    @Test
    void aLongPollShouldCompleteWhenAPushArrives() throws Exception {
        try (SpoolClient c = admin(); SpoolClient other = admin()) {
            c.create("java-poll", Map.of());
            CompletableFuture<SpoolClient.Message> waiting = c.pullAsync("java-poll", 10);
            Thread.sleep(300); // the poll is waiting before the push (what is tested is that the push wakes it)
            other.push("java-poll", Map.of("woke", true));
            assertTrue(waiting.get(8, TimeUnit.SECONDS).body().get("woke").asBoolean());
        }
    }

    @Test
    void subscriptionsShouldEachReceiveEveryMessageAndReplay() {
        try (SpoolClient c = admin()) {
            c.create("java-sub", Map.of());
            List<Long> ids = c.pushBatch("java-sub", List.of(Map.of("n", 1), Map.of("n", 2), Map.of("n", 3)), 10);
            assertEquals(2, c.createSubscription("java-sub", "v2", Map.of("id", ids.get(1))).get("backlog").asInt());
            c.createSubscription("java-sub", "v1", Map.of("start", "earliest"));
            assertEquals(List.of("v1", "v2"), c.subscriptions("java-sub").stream().map(s -> s.get("name").asText())
                    .sorted().toList());
            SpoolClient.Subscription v2 = c.subscription("java-sub", "v2");
            assertEquals(List.of(2, 3), v2.pullBatch(10, 0).stream().map(m -> m.body().get("n").asInt()).toList());
            SpoolClient.Subscription v1 = c.subscription("java-sub", "v1");
            try (SpoolClient.Lease l = v1.lease(1, 0, 30).get(0)) {
                assertEquals(1, l.body().get("n").asInt());
                assertTrue(l.ack(), "acked through v1");
            }
            assertEquals(2, v1.info().get("backlog").asInt());
            assertEquals(3, c.stats("java-sub").get("depth").asInt(), "the queue's own backlog is untouched");
            v2.seek(Map.of("start", "earliest"));
            assertEquals(3, v2.pullBatch(10, 0).size(), "the replay delivers all three again");
            assertTrue(v2.pause().get("paused").asBoolean());
            assertFalse(v2.resume().get("paused").asBoolean());
            v2.delete();
            SpoolException gone = assertThrows(SpoolException.class, () -> v2.pull(0));
            assertEquals("SUBSCRIPTION_NOT_FOUND", gone.code());
        }
    }

    @Test
    void leasesAckNackRenewAndReleaseOnClose() {
        try (SpoolClient c = admin()) {
            c.create("java-lease", Map.of("max_deliveries", 0));
            c.push("java-lease", Map.of("job", 1));
            try (SpoolClient.Lease l = c.lease("java-lease", 1, 0, 30).get(0)) {
                assertEquals(1, l.delivery());
                assertTrue(l.renew(60));
                // not acked: closing releases it
            }
            SpoolClient.Lease again = c.lease("java-lease", 1, 1, 30).get(0);
            assertEquals(2, again.delivery());
            assertTrue(again.nack(0));
            SpoolClient.Lease third = c.lease("java-lease", 1, 1, 30).get(0);
            assertTrue(third.ack());
            assertFalse(third.ack(), "an ack of a settled lease is refused");
            assertEquals(0, c.stats("java-lease").get("depth").asInt());
        }
    }

    @Test
    void aWorkerLoopWithAutoRenewAndHealth() throws Exception {
        try (SpoolClient c = admin(); SpoolClient other = admin()) {
            assertEquals("ready", c.health().get("status").asText());
            c.create("java-loop", Map.of());
            c.pushBatch("java-loop", List.of(Map.of("n", 1), Map.of("n", 2)), 10);
            int[] done = {0};
            for (SpoolClient.Lease l : c.leases("java-loop", 10, 1, 30, () -> done[0] == 2)) {
                try (l) {
                    done[0]++;
                    assertTrue(l.ack());
                }
            }
            assertEquals(0, c.stats("java-loop").get("depth").asInt());
            c.push("java-loop", Map.of("long", true));
            SpoolClient.Lease l = c.lease("java-loop", 1, 0, 1).get(0).autoRenew(1, Duration.ofMillis(300));
            long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
            while (System.nanoTime() < until) { // the job runs past its 1 s visibility
                assertTrue(other.lease("java-loop", 1, 0, 30).isEmpty(), "still leased");
                Thread.sleep(200);
            }
            assertTrue(l.ack());

            // Issue 21: a refused renewal used to stop the renewals silently. Renewing every 1.5 s a lease visible
            // for 1 s: the first renewal finds it expired, and acking the lost lease throws.
            c.push("java-loop", Map.of("slow", true));
            SpoolClient.Lease lost = c.lease("java-loop", 1, 0, 1).get(0).autoRenew(1, Duration.ofMillis(1500));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (lost.renewalError() == null && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals("LEASE_LOST", lost.renewalError().code());
            assertEquals("LEASE_LOST", assertThrows(SpoolException.class, lost::checkRenewal).code());
            assertEquals("LEASE_LOST", assertThrows(SpoolException.class, lost::ack).code());
            SpoolClient.Lease again = c.lease("java-loop", 1, 0, 30).get(0);
            assertEquals(2, again.delivery(), "delivered again, as the error said");
            assertTrue(again.ack());
        }
    }

    @Test
    void errorsRetriesAndSigningInAgain() {
        try (SpoolClient c = admin()) {
            SpoolException missing = assertThrows(SpoolException.class, () -> c.push("no-such-queue", Map.of()));
            assertEquals(404, missing.status());
            assertEquals("QUEUE_NOT_FOUND", missing.code());
            c.create("java-typed", Map.of("type", "transaction"));
            SpoolException schema = assertThrows(SpoolException.class, () -> c.push("java-typed", Map.of("amount", 1)));
            assertEquals("SCHEMA_VIOLATION", schema.code());

            c.logout(); // the token is revoked: the next call signs in again by itself
            assertTrue(c.queues().contains("java-typed"));

            c.create("java-full", Map.of("max_length", 1));
            c.push("java-full", Map.of("n", 1));
            try (SpoolClient drainer = admin()) {
                CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> drainer.pull("java-full", 0));
                long started = System.nanoTime();
                c.push("java-full", Map.of("n", 2)); // 429 with Retry-After: 1, retried once room is made
                assertTrue(Duration.ofNanos(System.nanoTime() - started).toMillis() >= 900, "waited as Retry-After said");
            }
            try (SpoolClient once = SpoolClient.to(url).credentials("admin", password).retries(0, Duration.ZERO).build()) {
                SpoolException full = assertThrows(SpoolException.class, () -> once.push("java-full", Map.of("n", 3)));
                assertEquals(429, full.status());
                assertEquals(1, full.retryAfterSeconds());
            }
            try (SpoolClient dead = SpoolClient.to("http://127.0.0.1:9").token("t")
                    .retries(2, Duration.ofMillis(10)).build()) {
                assertEquals("CONNECTION_FAILED", assertThrows(SpoolException.class, dead::queues).code());
            }
            try (SpoolClient bad = SpoolClient.to(url).token("nonsense").build()) {
                assertEquals("UNAUTHORIZED", assertThrows(SpoolException.class, bad::queues).code());
            }
        }
    }

    @Test
    void redriveAndUsers() throws Exception {
        try (SpoolClient c = admin()) {
            c.create("java-dl", Map.of("max_deliveries", 1));
            c.push("java-dl", Map.of("poison", true));
            c.lease("java-dl", 1, 0, 30).get(0).nack(0);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!(c.queues().contains("java-dl.dlq") && c.stats("java-dl.dlq").get("depth").asInt() == 1)
                    && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(1, c.redrive("java-dl"));
            c.addUser("java-worker", "a-long-password-1", "AGENT");
            assertTrue(c.users().stream().map(u -> u.get("username").asText()).anyMatch("java-worker"::equals));
            try (SpoolClient worker = SpoolClient.to(url).credentials("java-worker", "a-long-password-1").build()) {
                assertTrue(worker.queues().contains("java-dl"));
                assertEquals(1, c.setPassword("java-worker", "a-long-password-2"));
                assertEquals("BAD_CREDENTIALS", assertThrows(SpoolException.class, worker::queues).code(),
                        "its token was revoked and the old password no longer signs in");
            }
            assertEquals(0, c.deleteUser("java-worker"));
            JsonNode after = c.stats("java-dl");
            assertEquals(1, after.get("depth").asInt());
        }
    }
}
