package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import dev.spool.storage.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.spool.broker.RawClient.closedByServer;

/**
 * Issue 9, point 7: connections are capped in total ({@code server.max_connections}) and per client address
 * ({@code server.max_connections_per_address}); at the cap, slow connections make room for a normal client; and
 * a normal client is served while 20,000 slow ones are connected. Loopback has a whole /8, so "other addresses"
 * are sockets bound to 127.0.0.N.
 */
@Timeout(180)
class ConnectionLimitsTest {
    @TempDir
    Path dir;

    private static Socket from(int last, TestBroker b) throws IOException {
        return RawClient.connect(b, last);
    }

    private static void send(Socket s, String request) throws IOException {
        s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    private static String get(String path, String token) {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    }

    /** Reads one response head and body; the status line first. */
    private static String[] response(Socket s) throws IOException {
        RawAnswer r = RawAnswer.read(s.getInputStream());
        if (r == null) {
            throw new IOException("closed before an answer");
        }
        return new String[]{r.head(), r.body()};
    }

    private static void assertProblem(String[] r, int status, String code) throws IOException {
        assertTrue(r[0].startsWith("HTTP/1.1 " + status + " "), r[0] + r[1]);
        assertTrue(r[0].toLowerCase().contains("content-type: application/problem+json"), r[0]);
        JsonNode body = TestBroker.JSON.readTree(r[1]);
        assertEquals(code, body.path("code").asText(), r[1]);
    }

    @Test
    void aConnectionOverItsAddressCapShouldGet429WhileOtherAddressesAreServed() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.max_connections_per_address: 3\n", Clock.systemUTC())) {
            String basic = b.tokens.get(Role.BASIC);
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    Socket s = from(7, b);
                    send(s, get("/queues", basic));
                    assertTrue(response(s)[0].startsWith("HTTP/1.1 200 "), "within the cap: served, kept alive");
                    held.add(s);
                }
                try (Socket fourth = from(7, b)) {
                    send(fourth, get("/queues", basic));
                    String[] r = response(fourth);
                    assertProblem(r, 429, "TOO_MANY_CONNECTIONS");
                    assertTrue(r[0].contains("Retry-After: 1"), r[0]);
                    assertTrue(closedByServer(fourth), "closed after the answer");
                }
                try (Socket other = from(8, b)) {
                    send(other, get("/queues", basic));
                    assertTrue(response(other)[0].startsWith("HTTP/1.1 200 "), "another address is not affected");
                }
                send(held.get(0), get("/queues", basic));
                assertTrue(response(held.get(0))[0].startsWith("HTTP/1.1 200 "), "the held ones keep working");
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    @Test
    void atTheTotalCapSlowConnectionsShouldMakeRoomForANormalClient() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.max_connections: 20\nserver.request_head_timeout_ms: 120000\n",
                Clock.systemUTC())) {
            List<Socket> slow = new ArrayList<>();
            long start = b.broker.connections().accepted();
            try {
                for (int i = 0; i < 40; i++) {
                    Socket s = from(20 + i % 4, b);
                    send(s, "POST /queues/q/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty");
                    slow.add(s);
                }
                // A connect returns once the kernel has queued it; wait until the broker has taken all forty, so the
                // normal client below arrives at the cap, behind them.
                awaitAccepted(b, start + 40);
                assertTrue(b.broker.connections().open() <= 20, "never more than the cap: " + b.broker.connections().open());
                // Forty half-sent heads, at most twenty counted: the others were closed to make room.
                assertTrue(b.broker.connections().evicted() >= 20, "slow ones made room: " + b.broker.connections().evicted());
                long before = b.broker.connections().evicted();
                try (Socket normal = from(9, b)) {
                    send(normal, get("/queues", b.tokens.get(Role.BASIC)));
                    assertTrue(response(normal)[0].startsWith("HTTP/1.1 200 "), "a normal client is served");
                }
                assertTrue(b.broker.connections().open() <= 20, "never more than the cap: " + b.broker.connections().open());
                assertTrue(b.broker.connections().evicted() > before,
                        "the normal client displaced a slow one: " + b.broker.connections().evicted());
                slow.get(0).setSoTimeout(5_000);
                assertTrue(closedByServer(slow.get(0)), "the oldest half-sent head went first");
            } finally {
                for (Socket s : slow) {
                    s.close();
                }
            }
        }
    }

    @Test
    void whenEveryConnectionIsInARequestANewOneShouldGet503() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.max_connections: 4\n", Clock.systemUTC())) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            String agent = b.tokens.get(Role.AGENT);
            List<Socket> polls = new ArrayList<>();
            try {
                for (int i = 1; i <= 4; i++) {
                    Socket s = from(30, b);
                    send(s, get("/queues/q/messages/first?wait=4", agent)); // long polls: in a request, not evictable
                    polls.add(s);
                    awaitInRequest(b, i);
                }
                // The fourth poll made room by closing the test client's idle connection; now all four are busy.
                try (Socket refused = from(31, b)) {
                    String[] r = response(refused); // answered at accept, before any request is sent
                    assertProblem(r, 503, "UNAVAILABLE");
                    assertTrue(closedByServer(refused));
                }
                for (Socket s : polls) {
                    assertTrue(response(s)[0].startsWith("HTTP/1.1 200 "), "each poll ends at its wait (null: empty)");
                }
                HttpClient fresh = HttpClient.newHttpClient();
                HttpResponse<String> push = fresh.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + b.broker.port() + "/queues/q/messages"))
                        .header("Authorization", "Bearer " + agent).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"body\":{\"n\":1}}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(201, push.statusCode(), "idle connections make room again: " + push.body());
            } finally {
                for (Socket s : polls) {
                    s.close();
                }
            }
        }
    }

    /** Waits (up to 10 s) until the broker has accepted at least {@code n} connections since it started. */
    private static void awaitAccepted(TestBroker b, long n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (b.broker.connections().accepted() < n) {
            assertTrue(System.nanoTime() < deadline, "connections accepted: " + b.broker.connections().accepted());
            LockSupport.parkNanos(1_000_000); // polls, leaving the cores to the broker
        }
    }

    /** Waits (up to 10 s) until the broker counts {@code n} connections in a request. */
    private static void awaitInRequest(TestBroker b, int n) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (b.broker.connections().inRequest() < n) {
            assertTrue(System.nanoTime() < deadline, "connections in a request: " + b.broker.connections().inRequest());
            LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void aNormalClientShouldBeServedWhile20000SlowOnesAreConnected() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.request_head_timeout_ms: 120000\nserver.idle_timeout_ms: 180000\n",
                Clock.systemUTC())) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            // Two child processes, 10,000 half-sent heads each, 1,000 per address (the default per-address cap):
            // a process of its own for each keeps every process under this machine's 20,000 descriptors.
            List<Process> floods = new ArrayList<>();
            try {
                for (int first : new int[]{100, 120}) {
                    floods.add(new ProcessBuilder(ChildJvm.command(SlowFlood.class.getName(),
                            Integer.toString(b.broker.port()), "10000", Integer.toString(first), "1000"))
                            .redirectError(ProcessBuilder.Redirect.INHERIT).start());
                }
                int opened = 0;
                for (Process p : floods) {
                    String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))
                            .readLine();
                    assertTrue(line != null && line.startsWith("open "), "flood reported: " + line);
                    opened += Integer.parseInt(line.split(" ")[1]);
                }
                assertTrue(opened >= 19_000, "slow connections opened and half-sent: " + opened);
                int cap = b.broker.connections().max();
                HttpClient fresh = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
                String agent = b.tokens.get(Role.AGENT);
                HttpResponse<String> push = fresh.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + b.broker.port() + "/queues/q/messages"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + agent).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"body\":{\"n\":1}}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(201, push.statusCode(), push.body());
                HttpResponse<String> pull = fresh.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + b.broker.port() + "/queues/q/messages/first"))
                        .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + agent).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, pull.statusCode(), pull.body());
                assertTrue(b.broker.connections().open() <= cap, "within the cap " + cap + ": "
                        + b.broker.connections().open());
                assertTrue(b.broker.connections().evicted() >= opened - cap,
                        "slow ones beyond the cap were closed: " + b.broker.connections().evicted());
            } finally {
                for (Process p : floods) {
                    p.getOutputStream().close();
                }
                for (Process p : floods) {
                    if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                }
            }
        }
    }
}
