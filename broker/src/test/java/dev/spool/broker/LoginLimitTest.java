package dev.spool.broker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9, point 6: password guessing gets 429 with Retry-After; the right password elsewhere still works. */
@Timeout(60)
class LoginLimitTest {
    @TempDir
    Path dir;

    private static String body(String password) {
        return "{\"username\":\"agent\",\"password\":\"" + password + "\"}";
    }

    /** A login from a chosen local address (127.0.0.2 is another client to the broker). */
    private static String loginFrom(TestBroker b, String localAddress, String password) throws Exception {
        byte[] json = body(password).getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(localAddress, 0));
            s.connect(new InetSocketAddress("127.0.0.1", b.broker.port()), 5_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + json.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().write(json);
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return all.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void guessingShouldBeSlowedWith429WhileTheRightPasswordFromElsewhereWorks() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            HttpResponse<String> r = null;
            for (int i = 0; i < 6; i++) {
                r = b.send("POST", "/login", null, body("wrong-" + i));
                assertEquals(401, r.statusCode(), r.body());
            }
            HttpResponse<String> locked = b.send("POST", "/login", null, body(TestBroker.PASSWORD));
            assertEquals(429, locked.statusCode(), "locked: even the right password waits here");
            assertEquals("TOO_MANY_ATTEMPTS", TestBroker.json(locked).path("code").asText());
            long retry = Long.parseLong(locked.headers().firstValue("Retry-After").orElse("0"));
            assertTrue(retry >= 1, "Retry-After: " + retry);
            String elsewhere = loginFrom(b, "127.0.0.2", TestBroker.PASSWORD);
            assertTrue(elsewhere.startsWith("HTTP/1.1 200"), elsewhere);
        }
    }
}
