package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 20's outside view in one run: requests a fuzzer or an attacker sends, each on its own connection as raw
 * bytes, and the answer each gets. Every answer must be a problem+json with the expected status and code (never an
 * empty 400, an HTML page or a stack trace), and afterwards every audit line must be strict JSON with no secret in
 * it. Prints one {@code EDGE-TABLE} line per request (the closing note's evidence).
 */
@Timeout(120)
class EdgeRequestsTest {
    @TempDir
    Path dir;

    private record Case(String name, String raw, int status, String code) {
    }

    private static RawAnswer send(TestBroker b, String raw) throws IOException {
        try (Socket s = RawClient.connect(b, 1)) {
            RawClient.write(s, raw);
            return RawClient.answer(s);
        }
    }

    private static String post(String path, String headers, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + headers
                + "Content-Length: " + b.length + "\r\n\r\n" + new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void everyHostileRequestShouldGetAProblemAndLeaveTheAuditLogStrictJson() throws Exception {
        String secret = "hunter2-" + System.nanoTime();
        String agentToken;
        List<String> table = new ArrayList<>();
        try (TestBroker b = new TestBroker(dir, "server.max_header_bytes: 8192\nserver.body_timeout_ms: 1500\n",
                Clock.systemUTC())) {
            b.admin("POST", "/queues/jobs", null);
            b.admin("POST", "/queues/tx", "{\"type\":\"transaction\"}");
            agentToken = b.tokens.get(Role.AGENT);
            String auth = "Authorization: Bearer " + agentToken + "\r\n";
            String tx = "{\"transaction_id\":\"t-1\",\"customer\":{\"user_id\":1,\"username\":\"u\",\"role\":3,"
                    + "\"password\":\"" + secret + "\"},\"status\":0,\"vendor_id\":\"v\",\"amount\":1.5}";
            List<Case> cases = List.of(
                    new Case("absolute-form target", "GET http://other.example/queues HTTP/1.1\r\nHost: x\r\n\r\n",
                            401, "UNAUTHORIZED"),
                    new Case("CONNECT", "CONNECT other.example:443 HTTP/1.1\r\nHost: other.example:443\r\n\r\n",
                            404, "ROUTE_NOT_FOUND"),
                    new Case("no Host header", "GET /health HTTP/1.1\r\n\r\n", 400, "MALFORMED_REQUEST"),
                    new Case("two Host headers", "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400,
                            "MALFORMED_REQUEST"),
                    new Case("NUL in a header", "GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n", 400,
                            "MALFORMED_REQUEST"),
                    new Case("bad percent-encoding", "GET /queues/%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400,
                            "MALFORMED_REQUEST"),
                    new Case("a 12 KB header over max_header_bytes",
                            "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(12_000) + "\r\n\r\n", 431,
                            "HEADERS_TOO_LARGE"),
                    new Case("Transfer-Encoding: gzip", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                            + "application/json\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "INVALID_REQUEST"),
                    new Case("broken chunk size", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                            + "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "MALFORMED_REQUEST"),
                    new Case("a body that stops (408 at body_timeout_ms)", "POST /login HTTP/1.1\r\nHost: x\r\n"
                            + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user", 408, "BODY_TIMEOUT"),
                    new Case("a login body over 16 KiB", post("/login", "", "{\"username\":\"" + "a".repeat(17_000)
                            + "\",\"password\":\"x\"}"), 413, "PAYLOAD_TOO_LARGE"),
                    new Case("UTF-16 body", post("/queues/jobs/messages", auth, "\u0000{"), 400, "MALFORMED_JSON"),
                    new Case("body with a UTF-8 byte-order mark", "POST /queues/jobs/messages HTTP/1.1\r\nHost: x\r\n"
                            + auth + "Content-Type: application/json\r\nContent-Length: 19\r\n\r\n\u00EF\u00BB\u00BF"
                            + "{\"body\":{\"n\":1}}", 201, null),
                    new Case("typed push the model refuses (its password must not reach the log)",
                            post("/queues/tx/messages", auth, "{\"body\":" + tx + "}"), 422, "SCHEMA_VIOLATION"),
                    new Case("token under a misspelled header", "GET /queues HTTP/1.1\r\nHost: x\r\nAuthorizaion: "
                            + "Bearer " + agentToken + "\r\n\r\n", 401, "UNAUTHORIZED"),
                    new Case("forwarded-for from an untrusted peer", "GET /queues HTTP/1.1\r\nHost: x\r\n"
                            + "X-Forwarded-For: 10.0.0.1\r\n\r\n", 401, "UNAUTHORIZED"),
                    new Case("queue name with an encoded '?'", "GET /queues/a%3Fb HTTP/1.1\r\nHost: x\r\n" + auth
                            + "\r\n", 400, "INVALID_QUEUE_NAME"),
                    new Case("unknown method", "BREW /queues HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 405,
                            "METHOD_NOT_ALLOWED"));
            for (Case c : cases) {
                RawAnswer r = send(b, c.raw());
                String type = r.head().toLowerCase().lines().filter(l -> l.startsWith("content-type:")).findFirst()
                        .orElse("content-type: (none)").substring(13).trim();
                String code = "-";
                if (!r.body().isEmpty()) {
                    JsonNode n = TestBroker.JSON.readTree(r.body());
                    code = n.path("code").asText("-");
                }
                table.add("EDGE-TABLE | " + c.name() + " | " + r.status() + " " + code + " | " + type);
                assertEquals(c.status(), r.status(), c.name() + ": " + r.head() + r.body());
                if (c.code() != null) {
                    assertEquals("application/problem+json", type, c.name());
                    assertEquals(c.code(), code, c.name() + ": " + r.body());
                }
            }
        }
        table.forEach(System.out::println);
        List<String> lines = Files.readAllLines(dir.resolve("message_queue.log"), StandardCharsets.UTF_8);
        assertFalse(lines.isEmpty());
        for (String line : lines) {
            JsonNode n = TestBroker.JSON.readTree(line); // strict JSON, one value a line
            assertTrue(n.isObject(), line);
            assertFalse(line.contains(secret), "a refused typed body's password is in the audit log: " + line);
            assertFalse(line.contains(agentToken), "a token is in the audit log: " + line);
        }
        System.out.println("EDGE-TABLE | audit log: " + lines.size() + " lines, every one strict JSON, no token, "
                + "no refused body's password");
    }
}
