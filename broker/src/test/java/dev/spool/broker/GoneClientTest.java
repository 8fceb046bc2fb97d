package dev.spool.broker;

import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A long poll whose client hangs up is cancelled at once: it never takes a message it can no longer receive. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class GoneClientTest {
    TestBroker b;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        b = new TestBroker(dir, "server.max_wait_seconds: 120\nserver.idle_timeout_ms: 300000", Clock.systemUTC());
    }

    @AfterAll
    void stop() {
        b.close();
    }

    private int waiting(String q) throws Exception {
        return TestBroker.json(b.as(Role.BASIC, "GET", "/queues/" + q, null)).path("waiting_requests").asInt();
    }

    private void awaitWaiting(String q, int count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (waiting(q) != count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waiting requests on " + q + " never became " + count + ": " + waiting(q));
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void aDestructiveLongPollWhoseClientHasGoneShouldNotTakeAMessage() throws Exception {
        assertEquals(201, b.admin("POST", "/queues/gone", "{\"max_length\":100}").statusCode());
        try (Socket s = new Socket("127.0.0.1", b.broker.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("GET /queues/gone/messages/first?wait=100 HTTP/1.1\r\nHost: x\r\nAuthorization: "
                    + b.tokens.get(Role.AGENT) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            awaitWaiting("gone", 1);
        } // the client hangs up while its pull waits
        awaitWaiting("gone", 0);
        assertEquals(201, b.as(Role.AGENT, "POST", "/queues/gone/messages", "{\"body\":{\"n\":1}}").statusCode());
        assertEquals(1, TestBroker.json(b.as(Role.AGENT, "GET", "/queues/gone/messages/first", null))
                .path("body").path("n").asInt(), "the message went to a client that is there");
    }

    @Test
    void aPipelinedRequestBehindALongPollShouldStillBeAnswered() throws Exception {
        assertEquals(201, b.admin("POST", "/queues/piped", "{\"max_length\":100}").statusCode());
        try (Socket s = new Socket("127.0.0.1", b.broker.port())) {
            OutputStream out = s.getOutputStream();
            String auth = "Authorization: " + b.tokens.get(Role.AGENT) + "\r\n";
            out.write(("GET /queues/piped/messages/first?wait=100 HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            awaitWaiting("piped", 1);
            out.write(("GET /queues/piped HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            assertEquals(201, b.as(Role.AGENT, "POST", "/queues/piped/messages", "{\"body\":{\"n\":2}}").statusCode());
            RawAnswer first = RawAnswer.read(s.getInputStream());
            RawAnswer second = RawAnswer.read(s.getInputStream());
            assertEquals(200, first.status());
            assertEquals(2, TestBroker.JSON.readTree(first.body()).path("body").path("n").asInt(), first.body());
            assertEquals(200, second.status(), second.body());
            assertEquals("piped", TestBroker.JSON.readTree(second.body()).path("name").asText());
        }
    }
}
