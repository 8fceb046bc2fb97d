package dev.spool.broker;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the raw-socket tests share: connecting from a chosen loopback address, writing bytes, reading answers. */
final class RawClient {
    private RawClient() {
    }

    /** A socket from {@code 127.0.0.<last>} to the broker, with a 10 s read timeout. */
    static Socket connect(TestBroker b, int last) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress("127.0.0." + last, 0));
        s.connect(new InetSocketAddress("127.0.0.1", b.broker.port()), 5_000);
        s.setSoTimeout(10_000);
        return s;
    }

    static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        s.getOutputStream().flush();
    }

    /** The next answer on {@code s}; fails if the connection closes first. */
    static RawAnswer answer(Socket s) throws IOException {
        RawAnswer r = RawAnswer.read(s.getInputStream());
        if (r == null) {
            throw new IOException("closed before an answer");
        }
        return r;
    }

    /** The answer is a problem+json with this status and code. */
    static void assertProblem(RawAnswer r, int status, String code) throws IOException {
        assertTrue(r.head().startsWith("HTTP/1.1 " + status + " "), r.head() + r.body());
        assertTrue(r.head().toLowerCase().contains("content-type: application/problem+json"), r.head());
        assertEquals(code, r.json().path("code").asText(), r.body());
    }

    /** True if the server closes {@code s} within its read timeout (end of stream or a reset; an answer first is fine). */
    static boolean closedByServer(Socket s) {
        try {
            while (s.getInputStream().read() >= 0) {
                // an answer first is fine; we wait for the close
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
