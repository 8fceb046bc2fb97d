package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.spool.broker.RawClient.answer;
import static dev.spool.broker.RawClient.assertProblem;
import static dev.spool.broker.RawClient.closedByServer;
import static dev.spool.broker.RawClient.write;

/**
 * Issue 20, slow and hostile clients: bodies trickled one byte at a time hold no worker and end at
 * {@code server.body_timeout_ms}; eviction at the connection cap takes the longest idle; request heads are capped;
 * behind a trusted proxy the client it names is the one limited and audited.
 */
@Timeout(120)
class HostileClientsTest {
    @TempDir
    Path dir;

    private static Socket connect(TestBroker b) throws IOException {
        return connect(b, 1);
    }

    private static Socket connect(TestBroker b, int last) throws IOException {
        Socket s = RawClient.connect(b, last);
        s.setSoTimeout(20_000);
        return s;
    }

    @Test
    void loginsTrickledAByteAtATimeShouldHoldNoWorkerAndBeAnswered408AtTheBodyDeadline() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.worker_threads: 2\nserver.body_timeout_ms: 4000\n",
                Clock.systemUTC())) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            List<Socket> trickling = new ArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            Thread trickler = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        for (Socket s : trickling) {
                            write(s, " "); // whitespace: still a JSON body being sent, one byte at a time
                        }
                        Thread.sleep(300);
                    }
                } catch (IOException | InterruptedException e) {
                    // closed by the server, or the test is over
                }
            });
            try {
                // Eight logins, no account needed, each sending its body one byte every 300 ms (4x the workers).
                for (int i = 0; i < 8; i++) {
                    Socket s = connect(b);
                    write(s, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            + "Content-Length: 200\r\n\r\n{");
                    trickling.add(s);
                }
                trickler.start();
                // Meanwhile every worker route answers: the trickled bodies are received on the IO threads.
                HttpResponse<String> login = b.send("POST", "/login", null,
                        "{\"username\":\"agent\",\"password\":\"" + TestBroker.PASSWORD + "\"}");
                assertEquals(200, login.statusCode(), login.body());
                assertEquals(201, b.admin("POST", "/queues/other", null).statusCode());
                assertEquals(200, b.as(Role.BASIC, "GET", "/queues/q", null).statusCode());
                assertEquals(200, b.admin("GET", "/users", null).statusCode());
                assertEquals(200, b.send("GET", "/metrics", null, null).statusCode());
                assertEquals(200, b.send("GET", "/health/ready", null, null).statusCode());
                // Still trickling past the deadline: each is answered 408 and closed.
                for (Socket s : trickling) {
                    assertProblem(answer(s), 408, "BODY_TIMEOUT");
                    assertTrue(closedByServer(s));
                }
            } finally {
                stop.set(true);
                trickler.interrupt();
                for (Socket s : trickling) {
                    s.close();
                }
            }
        }
    }

    @Test
    void loginsBeyondTheOpenRoutesShareShouldWaitTheirTurnAndAllBeServed() throws Exception {
        // Two workers: logins (slow hashing) may hold one at a time; the others wait without a thread.
        try (TestBroker b = new TestBroker(dir, "server.worker_threads: 2\n", Clock.systemUTC())) {
            List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> logins = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                logins.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return b.send("POST", "/login", null,
                                "{\"username\":\"agent\",\"password\":\"" + TestBroker.PASSWORD + "\"}");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            // Meanwhile a signed-in worker route still has the other worker.
            assertEquals(404, b.as(Role.BASIC, "GET", "/queues/none-such-yet", null).statusCode(),
                    "a stats request (a worker route) is answered while logins queue");
            for (java.util.concurrent.CompletableFuture<HttpResponse<String>> f : logins) {
                HttpResponse<String> r = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(200, r.statusCode(), r.body());
            }
        }
    }

    @Test
    void aTrickledPushShouldBeAnswered408AndStoreNothing() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.body_timeout_ms: 1500\n", Clock.systemUTC())) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            try (Socket s = connect(b)) {
                write(s, "POST /queues/q/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                        + b.tokens.get(Role.AGENT) + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                        + "{\"body\":");
                RawAnswer r = null;
                for (int i = 0; i < 100 && r == null; i++) {
                    s.setSoTimeout(200);
                    try {
                        r = RawAnswer.read(s.getInputStream());
                    } catch (SocketTimeoutException more) {
                        write(s, " ");
                    }
                }
                assertTrue(r != null, "answered before the body was complete");
                assertProblem(r, 408, "BODY_TIMEOUT");
            }
            assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/q", null)).path("depth").asInt());
        }
    }

    @Test
    void silentConnectionsShouldBeClosedAtTheIdleTimeout() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.max_wait_seconds: 1\nserver.idle_timeout_ms: 1500\n",
                Clock.systemUTC())) {
            try (Socket silent = connect(b); Socket afterOne = connect(b)) {
                write(afterOne, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
                assertTrue(answer(afterOne).head().startsWith("HTTP/1.1 200"));
                silent.setSoTimeout(10_000);
                afterOne.setSoTimeout(10_000);
                assertTrue(closedByServer(silent), "a connection that never sent a byte");
                assertTrue(closedByServer(afterOne), "a connection idle after its request");
            }
        }
    }

    @Test
    void atTheCapTheConnectionIdleTheLongestShouldGoNotTheOldest() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.max_connections: 3\n", Clock.systemUTC())) {
            String token = b.tokens.get(Role.BASIC);
            String get = "GET /queues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n";
            try (Socket oldest = connect(b); Socket middle = connect(b)) {
                write(oldest, get);
                assertTrue(answer(oldest).head().startsWith("HTTP/1.1 200"));
                write(middle, get);
                assertTrue(answer(middle).head().startsWith("HTTP/1.1 200"));
                write(oldest, get); // the oldest accepted is now the most recently active
                assertTrue(answer(oldest).head().startsWith("HTTP/1.1 200"));
                try (Socket third = connect(b)) {
                    write(third, get);
                    assertTrue(answer(third).head().startsWith("HTTP/1.1 200"));
                    try (Socket fourth = connect(b)) {
                        write(fourth, get);
                        assertTrue(answer(fourth).head().startsWith("HTTP/1.1 200"), "a new client gets in");
                        middle.setSoTimeout(10_000);
                        assertTrue(closedByServer(middle), "the connection idle the longest was closed");
                        write(oldest, get);
                        assertTrue(answer(oldest).head().startsWith("HTTP/1.1 200"),
                                "the oldest, recently active, is kept");
                    }
                }
            }
        }
    }

    @Test
    void aRequestHeadOverMaxHeaderBytesShouldGet431() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.max_header_bytes: 8192\n", Clock.systemUTC())) {
            try (Socket s = connect(b)) {
                write(s, "GET /queues HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(12_000) + "\r\n\r\n");
                assertProblem(answer(s), 431, "HEADERS_TOO_LARGE");
            }
            try (Socket s = connect(b)) {
                write(s, "GET /queues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b.tokens.get(Role.BASIC)
                        + "\r\nX-Big: " + "a".repeat(6_000) + "\r\n\r\n");
                assertTrue(answer(s).head().startsWith("HTTP/1.1 200"), "under the cap is served");
            }
            try (Socket s = connect(b)) {
                write(s, "GET /queues HTTP/1.1\r\nHost: x\r\nX-Bad\u0000: 1\r\n\r\n");
                assertProblem(answer(s), 400, "MALFORMED_REQUEST"); // a malformed small head is still a 400
            }
        }
    }

    private static String login(String user, String password, String forwardedHeader) {
        String body = "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}";
        return "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + (forwardedHeader == null ? "" : forwardedHeader + "\r\n")
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    private static int loginStatus(TestBroker b, String user, String password, String forwardedHeader)
            throws IOException {
        try (Socket s = connect(b)) {
            write(s, login(user, password, forwardedHeader));
            String head = answer(s).head();
            return Integer.parseInt(head.substring(9, 12));
        }
    }

    /** Twenty-one failed logins, each for another user, so that only the per-address count locks. */
    private static void failFromOneAddress(TestBroker b, String forwardedHeader) throws IOException {
        for (int i = 0; i < 21; i++) {
            int status = loginStatus(b, "nobody" + i, "wrong-password-123", forwardedHeader);
            assertTrue(status == 401 || status == 429, "status " + status);
        }
    }

    @Test
    void behindATrustedProxyTheNamedClientIsLockedOutAndAuditedNotEveryone() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.trusted_proxies: [\"127.0.0.0/8\"]\n", Clock.systemUTC())) {
            failFromOneAddress(b, "X-Forwarded-For: 203.0.113.7");
            assertEquals(429, loginStatus(b, "agent", TestBroker.PASSWORD, "X-Forwarded-For: 203.0.113.7"),
                    "the guessing client is locked out");
            // A client spoofing a hop to the left is still the address the proxy saw.
            assertEquals(429, loginStatus(b, "agent", TestBroker.PASSWORD,
                    "X-Forwarded-For: 198.51.100.1, 203.0.113.7"));
            assertEquals(200, loginStatus(b, "agent", TestBroker.PASSWORD, "X-Forwarded-For: 198.51.100.9"),
                    "another client behind the same balancer still signs in");
            assertEquals(200, loginStatus(b, "agent", TestBroker.PASSWORD,
                    "Forwarded: for=198.51.100.10;proto=https"), "Forwarded names a client too");
            // IPv6 clients are counted by their /64.
            failFromOneAddress(b, "Forwarded: for=\"[2001:db8:cafe::17]:4711\"");
            assertEquals(429, loginStatus(b, "agent", TestBroker.PASSWORD, "Forwarded: for=\"[2001:db8:cafe::99]\""),
                    "another address of the same /64 is the same client");
            assertEquals(200, loginStatus(b, "agent", TestBroker.PASSWORD, "Forwarded: for=\"[2001:db8:beef::1]\""));
        }
        {
            String audit = Files.readString(dir.resolve("message_queue.log"));
            JsonNode last = null;
            for (String line : audit.split("\n")) {
                JsonNode n = TestBroker.JSON.readTree(line);
                if (n.path("destination").path("path").asText().equals("/login") && n.path("status").asInt() == 200) {
                    last = n;
                }
            }
            assertTrue(last != null, audit);
            assertEquals("2001:db8:beef:0:0:0:0:1", last.path("source").path("address").asText(), last.toString());
        }
    }

    @Test
    void withoutTrustedProxiesForwardingHeadersAreIgnored() throws Exception {
        try (TestBroker b = new TestBroker(dir, "", Clock.systemUTC())) {
            failFromOneAddress(b, "X-Forwarded-For: 203.0.113.7");
            assertEquals(429, loginStatus(b, "agent", TestBroker.PASSWORD, "X-Forwarded-For: 198.51.100.9"),
                    "the header is the client's own word: the address is the connection's");
        }
    }

    @Test
    void thePerAddressConnectionCapCountsTheClientAProxyNames() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.trusted_proxies: [\"127.0.0.1\"]\n"
                + "server.max_connections_per_address: 2\n", Clock.systemUTC())) {
            String token = b.tokens.get(Role.BASIC);
            List<Socket> open = new ArrayList<>();
            try {
                // Five connections from the proxy itself: it is not capped as one address.
                for (int i = 0; i < 5; i++) {
                    Socket s = connect(b);
                    open.add(s);
                    String client = i < 2 ? "203.0.113.7" : "198.51.100." + i;
                    write(s, "GET /queues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                            + "\r\nX-Forwarded-For: " + client + "\r\n\r\n");
                    assertTrue(answer(s).head().startsWith("HTTP/1.1 200"), "connection " + i);
                }
                Socket third = connect(b);
                open.add(third);
                write(third, "GET /queues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                        + "\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n");
                assertProblem(answer(third), 429, "TOO_MANY_CONNECTIONS");
            } finally {
                for (Socket s : open) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aUserGuessedAtFromManyAddressesIsSlowedSoftly() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.trusted_proxies: [\"127.0.0.1\"]\n", Clock.systemUTC())) {
            for (int i = 0; i < 51; i++) {
                assertEquals(401, loginStatus(b, "agent", "wrong-password-123", "X-Forwarded-For: 198.51.100." + i));
            }
            assertEquals(429, loginStatus(b, "agent", TestBroker.PASSWORD, "X-Forwarded-For: 198.51.100.200"),
                    "past 50 failures from anywhere the user is locked for a while");
            assertEquals(200, loginStatus(b, "basic", TestBroker.PASSWORD, "X-Forwarded-For: 198.51.100.200"),
                    "others are not");
        }
    }
}
