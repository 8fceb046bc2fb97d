package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9, points 1, 2, 3, 4, 5 and 8: requests an attacker would send, over raw sockets where a client
 * library would refuse or rewrite them. Each is refused with problem+json and changes nothing, and the
 * audit log stays one valid JSON object per line whose own fields only the broker writes.
 */
@Timeout(60)
class HostileInputTest {
    @TempDir
    Path dir;

    private static RawAnswer raw(TestBroker b, byte[] request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", b.broker.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request);
            out.flush();
            RawAnswer r = RawAnswer.read(s.getInputStream());
            return r == null ? new RawAnswer(0, "", "") : r;
        }
    }

    private static byte[] request(String method, String target, String token, String contentType, byte[] body,
                                  String... extraHeaders) {
        boolean ownHost = String.join(" ", extraHeaders).startsWith("Host:");
        StringBuilder sb = new StringBuilder(method + " " + target + " HTTP/1.1\r\n"
                + (ownHost ? "" : "Host: 127.0.0.1\r\n") + "Connection: close\r\n");
        if (token != null) {
            sb.append("Authorization: Bearer ").append(token).append("\r\n");
        }
        for (String h : extraHeaders) {
            sb.append(h).append("\r\n");
        }
        if (body != null) {
            sb.append("Content-Type: ").append(contentType).append("\r\n");
            if (extraHeaders.length == 0 || !String.join(" ", extraHeaders).contains("Transfer-Encoding")) {
                sb.append("Content-Length: ").append(body.length).append("\r\n");
            }
        }
        sb.append("\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertProblem(RawAnswer r, int status, String code) throws Exception {
        assertEquals(status, r.status(), r.head() + r.body());
        assertTrue(r.head().toLowerCase().contains("content-type: application/problem+json"), r.head());
        assertEquals(code, r.json().path("code").asText(), r.body());
    }

    private static List<JsonNode> auditLines(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            out.add(TestBroker.JSON.readTree(l)); // every line one JSON object, or this throws
        }
        return out;
    }

    @Test
    void aPathThatDoesNotDecodeToExactlyOneQueueNameShouldBe400AndCreateNothing() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            String admin = b.tokens.get(Role.ADMINISTRATOR);
            assertProblem(raw(b, request("POST", "/queues/a%3Fb", admin, null, null)), 400, "INVALID_QUEUE_NAME");
            assertProblem(raw(b, request("POST", "/queues/a%3Fb/leases", admin, null, null)), 400, "INVALID_QUEUE_NAME");
            assertProblem(raw(b, request("POST", "/queues/a;x=1", admin, null, null)), 400, "INVALID_QUEUE_NAME");
            assertProblem(raw(b, request("POST", "/queues/c%2Fd", admin, null, null)), 400, "INVALID_QUEUE_NAME");
            assertEquals("[]", b.admin("GET", "/queues", null).body(), "no queue was created");
            assertEquals(201, raw(b, request("POST", "/queues/%41ok", admin, null, null)).status(),
                    "an escape that decodes to a valid name is that name");
            assertEquals(200, b.admin("GET", "/queues/Aok", null).statusCode());
        }
    }

    @Test
    void numbersOutOfRangeShouldBe400NamingTheFieldNotWrapped() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            RawAnswer create = raw(b, request("POST", "/queues/q", b.tokens.get(Role.ADMINISTRATOR), "application/json",
                    utf8("{\"max_deliveries\": 18446744073709551617}")));
            assertProblem(create, 400, "INVALID_REQUEST");
            assertTrue(create.json().path("detail").asText().contains("max_deliveries"), create.body());
            assertEquals(404, b.admin("GET", "/queues/q", null).statusCode());

            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            b.as(Role.AGENT, "POST", "/queues/q/messages", "{\"body\":{}}");
            String lease = TestBroker.json(b.as(Role.AGENT, "POST", "/queues/q/leases", null)).get(0).path("lease").asText();
            for (String field : List.of("delay_seconds", "visibility_seconds")) {
                String route = field.startsWith("delay") ? "/queues/q/nacks" : "/queues/q/renewals";
                RawAnswer r = raw(b, request("POST", route, b.tokens.get(Role.AGENT), "application/json",
                        utf8("{\"leases\":[\"" + lease + "\"],\"" + field + "\":18446744073709551617}")));
                assertProblem(r, 400, "INVALID_REQUEST");
                assertTrue(r.json().path("detail").asText().contains(field), r.body());
            }
        }
    }

    @Test
    void duplicateKeysShouldBe400AndStoreNothing() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            String agent = b.tokens.get(Role.AGENT);
            assertProblem(raw(b, request("POST", "/queues/q/messages", agent, "application/json",
                    utf8("{\"body\":{\"a\":1,\"a\":2}}"))), 400, "MALFORMED_JSON");
            assertProblem(raw(b, request("POST", "/queues/q/messages", agent, "application/json",
                    utf8("{\"body\":{},\"body\":{}}"))), 400, "MALFORMED_JSON");
            assertProblem(raw(b, request("POST", "/queues/q/messages/batch", agent, "application/json",
                    utf8("[{\"body\":{\"k\":1,\"k\":1}}]"))), 400, "MALFORMED_JSON");
            assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/q", null)).path("depth").asInt());
        }
    }

    @Test
    void bodiesInOtherEncodingsOrTransferCodingsShouldBe400() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            String agent = b.tokens.get(Role.AGENT);
            String msg = "{\"body\":{\"n\":1}}";
            for (java.nio.charset.Charset cs : List.of(StandardCharsets.UTF_16BE, StandardCharsets.UTF_16LE,
                    StandardCharsets.UTF_16, java.nio.charset.Charset.forName("UTF-32BE"))) {
                assertProblem(raw(b, request("POST", "/queues/q/messages", agent, "application/json",
                        msg.getBytes(cs))), 400, "MALFORMED_JSON");
            }
            byte[] body = utf8(msg);
            RawAnswer identity = raw(b, request("POST", "/queues/q/messages", agent, "application/json", body,
                    "Transfer-Encoding: identity"));
            assertProblem(identity, 400, "INVALID_REQUEST");
            assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/q", null)).path("depth").asInt(),
                    "nothing was stored");
        }
    }

    @Test
    void requestsTheHttpLayerCannotParseShouldStillBeProblemJsonWithACode() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            String admin = b.tokens.get(Role.ADMINISTRATOR);
            StringBuilder params = new StringBuilder("/queues?p0=0");
            for (int i = 1; i <= 1000; i++) {
                params.append("&p").append(i).append('=').append(i);
            }
            List<byte[]> heads = List.of(
                    request("GET", "/queues", admin, null, null, "X-Evil: a\0b"),
                    request("GET", "/queues/%zz", admin, null, null),
                    request("GET", params.toString(), admin, null, null),
                    utf8("GARBAGE\r\n\r\n"),
                    utf8("GET /queues HTTP/1.1 trailing\r\nHost: x\r\n\r\n"));
            for (byte[] head : heads) {
                RawAnswer r = raw(b, head);
                assertEquals(400, r.status(), new String(head, StandardCharsets.ISO_8859_1).lines().findFirst().orElse("")
                        + " -> " + r.head() + r.body());
                assertProblem(r, 400, "MALFORMED_REQUEST");
            }
            assertEquals(200, b.as(Role.BASIC, "GET", "/queues", null).statusCode(), "still serving");
        }
    }

    @Test
    void requestsPipelinedBeforeOneThatCannotBeParsedShouldStillBeAnswered() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            String agent = b.tokens.get(Role.AGENT);
            ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
            for (int i = 0; i < 3; i++) {
                byte[] push = request("POST", "/queues/q/messages", agent, "application/json", utf8("{\"body\":{\"n\":" + i + "}}"));
                // keep-alive: the test's request() asks for a close after each
                pipeline.writeBytes(new String(push, StandardCharsets.ISO_8859_1).replace("Connection: close\r\n", "")
                        .getBytes(StandardCharsets.ISO_8859_1));
            }
            for (int i = 0; i < 2; i++) { // answered on the IO thread, so held in the pipelining buffer
                pipeline.writeBytes(utf8("GET /queues/q HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + agent + "\r\n\r\n"));
            }
            pipeline.writeBytes(utf8("GET /queues/%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
            List<RawAnswer> answers = new ArrayList<>();
            try (Socket s = new Socket("127.0.0.1", b.broker.port())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(pipeline.toByteArray());
                s.getOutputStream().flush();
                InputStream in = s.getInputStream();
                RawAnswer r;
                while ((r = RawAnswer.read(in)) != null) {
                    answers.add(r);
                }
            }
            assertEquals(6, answers.size(), answers.toString());
            for (int i = 0; i < 3; i++) {
                assertEquals(201, answers.get(i).status(), answers.get(i).toString());
                assertEquals(i + 1, answers.get(i).json().path("id").asLong(), "answered in order");
            }
            for (int i = 3; i < 5; i++) {
                assertEquals(200, answers.get(i).status(), answers.get(i).toString());
                assertEquals(3, answers.get(i).json().path("depth").asInt(), answers.get(i).toString());
            }
            assertProblem(answers.get(5), 400, "MALFORMED_REQUEST");
            assertEquals(3, TestBroker.json(b.admin("GET", "/queues/q", null)).path("depth").asInt());
        }
    }

    @Test
    void badChunkedFramingShouldBeAnsweredAsProblemJsonAndStoreNothing() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            String agent = b.tokens.get(Role.AGENT);
            String msg = "{\"body\":{\"n\":1}}";
            String len = Integer.toHexString(msg.length());
            List<String> bodies = List.of(
                    "zz\r\n" + msg + "\r\n0\r\n\r\n",                      // not a hex size
                    "fffffffffffffffffffff\r\n" + msg + "\r\n0\r\n\r\n",   // a size that overflows
                    len + "\r\n" + msg + "\r\n0\r\nbad trailer\r\n\r\n");  // a trailer with no colon
            for (String body : bodies) {
                RawAnswer r = raw(b, request("POST", "/queues/q/messages", agent, "application/json", utf8(body),
                        "Transfer-Encoding: chunked"));
                assertProblem(r, 400, "MALFORMED_REQUEST");
            }
            assertEquals(0, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/q", null)).path("depth").asInt(),
                    "nothing was stored");
            RawAnswer good = raw(b, request("POST", "/queues/q/messages", agent, "application/json",
                    utf8(len + "\r\n" + msg + "\r\n0\r\n\r\n"), "Transfer-Encoding: chunked"));
            assertEquals(201, good.status(), "well-formed chunked bodies still work: " + good.body());
        }
    }

    @Test
    void theAuditLogShouldStayOneJsonObjectPerLineWhoseFieldsOnlyTheBrokerWrites() throws Exception {
        Path log = dir.resolve("message_queue.log");
        String agent;
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            agent = b.tokens.get(Role.AGENT);
            RawAnswer forged = raw(b, request("POST", "/queues/q/messages", agent, "application/json",
                    utf8("{\"body\":{}}, \"user\":\"admin\",\"status\":201,\"time\":\"2020-01-01T00:00:00Z\"")));
            assertProblem(forged, 400, "MALFORMED_JSON");
            assertEquals(201, raw(b, request("POST", "/queues/q/messages/batch", agent, "application/x-ndjson",
                    utf8("{\"body\":{\"n\":1}}\n{\"body\":{\"n\":2}}\n"))).status());
            String deep = "{\"body\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
            assertEquals(400, raw(b, request("POST", "/queues/q/messages", agent, "application/json", utf8(deep))).status());
            raw(b, request("GET", "/queues/q/messages/first?token=" + agent + "&wait=0", agent, null, null,
                    "Host: evil.example:1"));
        }
        List<JsonNode> lines = auditLines(log);
        JsonNode bad = lines.stream().filter(l -> l.path("status").asInt() == 400).findFirst().orElseThrow();
        assertEquals("agent", bad.path("user").asText());
        assertFalse(bad.path("time").asText().startsWith("2020"));
        assertTrue(bad.path("body").isTextual(), "an invalid body is an escaped string: " + bad);
        JsonNode batch = lines.stream().filter(l -> l.path("destination").path("path").asText().endsWith("/batch"))
                .findFirst().orElseThrow();
        assertTrue(batch.path("body").asText().contains("\"n\":2"), batch.toString());
        JsonNode pull = lines.stream().filter(l -> l.path("destination").path("path").asText().contains("/first"))
                .findFirst().orElseThrow();
        String path = pull.path("destination").path("path").asText();
        assertFalse(path.contains(agent), "a token in the query is not logged: " + path);
        assertTrue(path.contains("token=[REDACTED]") && path.contains("wait=0"), path);
        assertEquals("127.0.0.1", pull.path("destination").path("host").asText(), "the listener, not the Host header");
        assertTrue(pull.path("destination").path("port").asInt() > 1, pull.toString());
    }
}
