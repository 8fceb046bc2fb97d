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
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LongPollTest {
    TestBroker b;
    private int n;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        b = new TestBroker(dir, "server_wait_placeholder", Clock.systemUTC());
    }

    @AfterAll
    void stop() {
        b.close();
    }

    private String queue() throws Exception {
        String q = "lp" + ++n;
        assertEquals(201, b.admin("POST", "/queues/" + q, "{\"max_length\":100000}").statusCode());
        return q;
    }

    private CompletableFuture<HttpResponse<String>> async(String method, String path) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(b.url(path))).timeout(Duration.ofSeconds(60))
                .header("Authorization", b.tokens.get(Role.AGENT)).method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return b.http.sendAsync(req, HttpResponse.BodyHandlers.ofString());
    }

    private void awaitWaiters(String q, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).path("waiting_requests").asInt() >= count) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError(count + " requests never waited on " + q);
    }

    @Test
    void waitingPullShouldAnswerNullWhenTheWaitEnds() throws Exception {
        String q = queue();
        long t0 = System.nanoTime();
        HttpResponse<String> r = b.as(Role.AGENT, "GET", "/queues/" + q + "/messages/first?wait=1", null);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, r.statusCode());
        assertEquals("null", r.body());
        assertTrue(ms >= 900, "it waited: " + ms + " ms");
        assertEquals("[]", b.as(Role.AGENT, "GET", "/queues/" + q + "/messages?max=5&wait=0.2", null).body());
    }

    @Test
    void waitShouldBeCappedAtTheConfiguredMaximum() throws Exception {
        String q = queue();
        long t0 = System.nanoTime();
        HttpResponse<String> r = b.as(Role.AGENT, "POST", "/queues/" + q + "/leases?wait=600", null);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals("[]", r.body());
        assertTrue(ms < 30_000, "server.max_wait_seconds is 2 here, waited " + ms + " ms");
    }

    @Test
    void pushShouldWakeAWaitingPull() throws Exception {
        String q = queue();
        CompletableFuture<HttpResponse<String>> waiting = async("GET", "/queues/" + q + "/messages/first?wait=2");
        awaitWaiters(q, 1);
        long t0 = System.nanoTime();
        assertEquals(201, b.as(Role.AGENT, "POST", "/queues/" + q + "/messages", "{\"body\":{\"hello\":1}}").statusCode());
        HttpResponse<String> r = waiting.get(30, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(1, TestBroker.json(r).path("body").path("hello").asInt(), r.body());
        assertTrue(ms < 1500, "answered by the push, not by the end of the 2 s wait: " + ms + " ms");
    }

    @Test
    void pushShouldWakeWaitingLeasesAndBatchPulls() throws Exception {
        String q = queue();
        CompletableFuture<HttpResponse<String>> lease = async("POST", "/queues/" + q + "/leases?wait=20");
        CompletableFuture<HttpResponse<String>> batch = async("GET", "/queues/" + q + "/messages?max=10&wait=20");
        awaitWaiters(q, 2);
        b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch", "[{\"body\":{\"n\":1}},{\"body\":{\"n\":2}}]");
        JsonNode l = TestBroker.json(lease.get(30, TimeUnit.SECONDS));
        JsonNode p = TestBroker.json(batch.get(30, TimeUnit.SECONDS));
        assertEquals(2, l.size() + p.size(), l + " " + p);
    }

    /** The broker's threads (Undertow's IO and worker threads), not the test's HTTP client's. */
    private static int serverThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("XNIO")).count();
    }

    @Test
    void manyIdleWaitersShouldHoldNoThreadsAndEachGetOneMessage() throws Exception {
        String q = queue();
        int waiters = 200;
        int threadsBefore = serverThreads();
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < waiters; i++) {
            all.add(async("GET", "/queues/" + q + "/messages/first?wait=20"));
        }
        awaitWaiters(q, waiters);
        int threadsWaiting = serverThreads();
        // 200 waiting requests, while the server's worker pool has 8 threads: none of them is held.
        assertTrue(threadsWaiting <= threadsBefore + 8, "waiters hold no threads: " + threadsBefore + " -> " + threadsWaiting);
        StringBuilder batch = new StringBuilder("[");
        for (int i = 0; i < waiters; i++) {
            batch.append(i == 0 ? "" : ",").append("{\"body\":{\"n\":").append(i).append("}}");
        }
        assertEquals(201, b.as(Role.AGENT, "POST", "/queues/" + q + "/messages/batch", batch + "]").statusCode());
        Set<Integer> got = new HashSet<>();
        for (CompletableFuture<HttpResponse<String>> f : all) {
            JsonNode m = TestBroker.json(f.get(30, TimeUnit.SECONDS));
            assertFalse(m.isNull(), "every waiter gets a message");
            assertTrue(got.add(m.path("body").path("n").asInt()), "no message twice");
        }
        assertEquals(waiters, got.size());
    }
}
