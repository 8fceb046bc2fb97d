package dev.spool.broker;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuditTest {
    @TempDir
    Path dir;

    private static List<JsonNode> lines(Path file) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) {
            out.add(TestBroker.JSON.readTree(l));
        }
        return out;
    }

    @Test
    void everyRequestShouldBeOneJsonLineWithTheContractFields() throws Exception {
        Path log;
        try (TestBroker b = new TestBroker(dir)) {
            b.admin("POST", "/queues/audited", null);
            b.as(Role.AGENT, "POST", "/queues/audited/messages", "{\"body\":{\"score\":0.5},\"metadata\":{\"node\":\"n1\"}}");
            b.as(Role.BASIC, "POST", "/queues/audited/messages", "{\"body\":{}}");
            log = dir.resolve("message_queue.log");
        }
        List<JsonNode> events = lines(log);
        // 4 logins + 3 requests
        assertEquals(7, events.size());
        JsonNode push = events.stream().filter(e -> e.path("status").asInt() == 201
                && e.path("destination").path("path").asText().endsWith("/messages")).findFirst().orElseThrow();
        assertTrue(push.path("time").isTextual());
        assertEquals("127.0.0.1", push.path("source").path("address").asText());
        assertTrue(push.path("source").path("port").asInt() > 0);
        assertEquals("POST", push.path("destination").path("method").asText());
        assertTrue(push.path("destination").path("port").asInt() > 0);
        assertNotNull(push.path("destination").get("host"));
        assertTrue(push.path("latency_ms").isNumber());
        assertEquals("agent", push.path("user").asText());
        assertEquals(3, push.path("role").asInt());
        assertEquals("[REDACTED]", push.path("headers").path("Authorization").asText());
        assertEquals("n1", push.path("metadata").path("node").asText());
        assertEquals(0.5, push.path("body").path("body").path("score").asDouble());
        JsonNode denied = events.stream().filter(e -> e.path("status").asInt() == 403).findFirst().orElseThrow();
        assertEquals("basic", denied.path("user").asText());
        assertEquals(0, denied.path("role").asInt());
    }

    @Test
    void subscriptionRoutesShouldBeAuditedWithTheirBodies() throws Exception {
        Path log;
        try (TestBroker b = new TestBroker(dir)) {
            b.admin("POST", "/queues/audited", null);
            b.admin("POST", "/queues/audited/subscriptions/v2", "{\"start\":\"earliest\"}");
            b.admin("POST", "/queues/audited/subscriptions/v2/seek", "{\"id\":1}");
            b.as(Role.AGENT, "GET", "/queues/audited/subscriptions/v2/messages?max=5", null);
            b.as(Role.AGENT, "DELETE", "/queues/audited/subscriptions/v2", null);
            log = dir.resolve("message_queue.log");
        }
        List<JsonNode> events = lines(log);
        JsonNode created = events.stream().filter(e -> e.path("destination").path("path").asText()
                .equals("/queues/audited/subscriptions/v2") && e.path("status").asInt() == 201).findFirst().orElseThrow();
        assertEquals("administrator", created.path("user").asText());
        assertEquals("earliest", created.path("body").path("start").asText());
        JsonNode seek = events.stream().filter(e -> e.path("destination").path("path").asText().endsWith("/v2/seek"))
                .findFirst().orElseThrow();
        assertEquals(1, seek.path("body").path("id").asInt());
        assertEquals(200, seek.path("status").asInt(), "id 1 of an empty queue is its next message");
        assertTrue(events.stream().anyMatch(e -> e.path("destination").path("path").asText()
                .equals("/queues/audited/subscriptions/v2/messages?max=5") && e.path("status").asInt() == 200));
        JsonNode denied = events.stream().filter(e -> e.path("destination").path("method").asText().equals("DELETE"))
                .findFirst().orElseThrow();
        assertEquals(403, denied.path("status").asInt());
        assertEquals("agent", denied.path("user").asText());
    }

    @Test
    void noTokenOrPasswordShouldAppearInAnyLog() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> app = new ListAppender<>();
        app.start();
        root.addAppender(app);
        List<String> tokens;
        try (TestBroker b = new TestBroker(dir)) {
            b.admin("POST", "/queues/secret", null);
            b.as(Role.AGENT, "GET", "/queues/secret/messages/first", null);
            b.send("POST", "/login", null, "{\"username\":\"agent\",\"password\":\"wrong-password-xyz\"}");
            b.send("POST", "/logout", b.tokens.get(Role.BASIC), null);
            tokens = List.copyOf(b.tokens.values());
        } finally {
            root.detachAppender(app);
        }
        String audit = Files.readString(dir.resolve("message_queue.log"));
        StringBuilder logs = new StringBuilder();
        app.list.forEach(e -> logs.append(e.getFormattedMessage()).append('\n'));
        for (String t : tokens) {
            assertFalse(audit.contains(t), "token in audit log");
            assertFalse(logs.toString().contains(t), "token in application log");
        }
        for (String secret : List.of(TestBroker.PASSWORD, "wrong-password-xyz")) {
            assertFalse(audit.contains(secret), "password in audit log");
            assertFalse(logs.toString().contains(secret), "password in application log");
        }
        assertTrue(audit.contains("[REDACTED]"));
    }

    @Test
    void multiLineBodiesShouldStillBeOneLinePerRequest() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            b.admin("POST", "/queues/pretty", null);
            assertEquals(201, b.as(Role.AGENT, "POST", "/queues/pretty/messages",
                    "{\n  \"body\": {\r\n    \"text\": \"line one\\nline two\"\n  }\n}\n").statusCode());
        }
        List<JsonNode> events = lines(dir.resolve("message_queue.log"));
        assertEquals(6, events.size());
        assertEquals("line one\nline two", events.get(5).path("body").path("body").path("text").asText());
    }

    @Test
    void bodyPolicyOmitShouldLeaveBodiesOut() throws Exception {
        try (TestBroker b = new TestBroker(dir, "  body: \"omit\"\n", java.time.Clock.systemUTC())) {
            b.admin("POST", "/queues/quiet", null);
            b.as(Role.AGENT, "POST", "/queues/quiet/messages", "{\"body\":{\"secret\":\"s3\"}}");
        }
        String audit = Files.readString(dir.resolve("message_queue.log"));
        assertFalse(audit.contains("s3"));
        assertEquals(6, lines(dir.resolve("message_queue.log")).size());
    }

    @Test
    void bodyPolicyTruncateShouldCutLongBodies() throws Exception {
        try (TestBroker b = new TestBroker(dir, "  body: \"truncate\"\n  body_max_chars: 20\n",
                java.time.Clock.systemUTC())) {
            b.admin("POST", "/queues/short", null);
            b.as(Role.AGENT, "POST", "/queues/short/messages", "{\"body\":{\"long\":\"" + "z".repeat(200) + "\"}}");
        }
        String audit = Files.readString(dir.resolve("message_queue.log"));
        assertTrue(audit.contains("(truncated)"));
        assertFalse(audit.contains("z".repeat(50)));
    }
}
