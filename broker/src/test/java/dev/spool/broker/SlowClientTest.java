package dev.spool.broker;

import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.spool.broker.RawClient.closedByServer;

/**
 * Issue 9, point 7 (in part): half-sent request heads are closed after {@code server.request_head_timeout_ms},
 * and a normal client is served while they hang.
 */
@Timeout(60)
class SlowClientTest {
    private static final int SLOW = 300;

    @TempDir
    Path dir;

    @Test
    void halfSentHeadsShouldBeClosedWhileANormalClientIsServed() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.request_head_timeout_ms: 500\n", Clock.systemUTC())) {
            List<Socket> slow = new ArrayList<>();
            try {
                for (int i = 0; i < SLOW; i++) {
                    Socket s = new Socket("127.0.0.1", b.broker.port());
                    s.getOutputStream().write("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
                            .getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    slow.add(s);
                }
                assertEquals(200, b.send("GET", "/health", null, null).statusCode(), "served while they hang");
                for (Socket s : slow) {
                    s.setSoTimeout(10_000);
                    assertTrue(closedByServer(s), "a half-sent head is closed after the head timeout");
                }
                assertEquals(200, b.send("GET", "/health", null, null).statusCode());
            } finally {
                for (Socket s : slow) {
                    s.close();
                }
            }
        }
    }

    @Test
    void stalledBodiesShouldBeAnsweredAndClosedAfterTheBodyTimeoutWithoutHoldingTheWorkers() throws Exception {
        try (TestBroker b = new TestBroker(dir, "server.body_timeout_ms: 1500\nserver.worker_threads: 2\n",
                Clock.systemUTC())) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            List<Socket> stalled = new ArrayList<>();
            try {
                // Two half-sent login bodies (read on the two worker threads) and one half-sent push (IO thread).
                for (String head : List.of("POST /login HTTP/1.1\r\n", "POST /login HTTP/1.1\r\n",
                        "POST /queues/q/messages HTTP/1.1\r\nAuthorization: Bearer " + b.tokens.get(Role.AGENT) + "\r\n")) {
                    Socket s = new Socket("127.0.0.1", b.broker.port());
                    s.getOutputStream().write((head + "Host: x\r\nContent-Type: application/json\r\n"
                            + "Content-Length: 100\r\n\r\n{\"body\":").getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    stalled.add(s);
                }
                // A worker route still answers: the stalled bodies hold no worker, and end at their deadline.
                assertEquals(200, b.send("GET", "/health/ready", null, null).statusCode());
                Socket push = stalled.get(2);
                push.setSoTimeout(10_000);
                String answer = new String(push.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertTrue(answer.startsWith("HTTP/1.1 408 ") && answer.contains("BODY_TIMEOUT"), answer);
                for (Socket s : stalled.subList(0, 2)) {
                    s.setSoTimeout(10_000);
                    String login = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertTrue(login.startsWith("HTTP/1.1 408 ") && login.contains("BODY_TIMEOUT"), login);
                }
                assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/q", null)).path("depth").asInt(),
                        "nothing was stored");
            } finally {
                for (Socket s : stalled) {
                    s.close();
                }
            }
        }
    }
}
