package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every audit line is strict JSON and carries no secret, whatever the request: a body with a byte-order mark, a
 * typed push rejected for carrying {@code customer.password}, a token under a misspelled header name.
 */
@Timeout(60)
class AuditStrictnessTest {
    @TempDir
    Path dir;

    private static void everyLineShouldBeJson(Path log) throws Exception {
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            JsonNode n = TestBroker.JSON.readTree(line);
            assertTrue(n.isObject(), line);
            assertFalse(line.contains("\uFEFF"), "a byte-order mark inside the line: " + line);
        }
    }

    @Test
    void aBodyWithAByteOrderMarkShouldStillLeaveAJsonLine() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            b.admin("POST", "/queues/bom", null);
            HttpResponse<String> r = b.as(Role.AGENT, "POST", "/queues/bom/messages", "\uFEFF{\"body\":{\"n\":1}}");
            assertEquals(201, r.statusCode(), r.body());
            HttpResponse<String> batch = b.as(Role.AGENT, "POST", "/queues/bom/messages/batch",
                    "\uFEFF[{\"body\":{\"n\":2}}]");
            assertEquals(201, batch.statusCode(), batch.body());
        }
        everyLineShouldBeJson(dir.resolve("message_queue.log"));
    }

    @Test
    void aRejectedTypedBodyShouldNotLeaveItsPasswordInTheLog() throws Exception {
        String secret = "hunter2-do-not-log";
        try (TestBroker b = new TestBroker(dir)) {
            b.admin("POST", "/queues/tx", "{\"type\":\"transaction\"}");
            String tx = "{\"transaction_id\":\"t-1\",\"customer\":{\"user_id\":1,\"username\":\"u\",\"role\":3,"
                    + "\"password\":\"" + secret + "\"},\"status\":0,\"vendor_id\":\"v\",\"amount\":1.5}";
            HttpResponse<String> one = b.as(Role.AGENT, "POST", "/queues/tx/messages", "{\"body\":" + tx + "}");
            assertEquals(422, one.statusCode(), one.body());
            HttpResponse<String> batch = b.as(Role.AGENT, "POST", "/queues/tx/messages/batch",
                    "[{\"body\":" + tx + "}]");
            assertEquals(422, batch.statusCode(), batch.body());
        }
        String audit = Files.readString(dir.resolve("message_queue.log"));
        assertFalse(audit.contains(secret), "the rejected body's password is in the audit log");
        assertTrue(audit.contains("[REDACTED"), "the body is shown redacted");
        everyLineShouldBeJson(dir.resolve("message_queue.log"));
    }

    @Test
    void aTokenUnderAnyHeaderNameShouldBeRedacted() throws Exception {
        String token;
        try (TestBroker b = new TestBroker(dir)) {
            token = b.tokens.get(Role.AGENT);
            for (String[] h : new String[][]{{"Authorizaion", token}, {"X-Api-Token", "Bearer " + token},
                    {"X-Forwarded-Authorization", "bearer " + token}}) {
                HttpRequest req = HttpRequest.newBuilder(URI.create(b.url("/queues"))).timeout(Duration.ofSeconds(10))
                        .header(h[0], h[1]).GET().build();
                assertEquals(401, b.http.send(req, HttpResponse.BodyHandlers.ofString()).statusCode());
            }
        }
        String audit = Files.readString(dir.resolve("message_queue.log"));
        assertFalse(audit.contains(token), "a token sent under another header name is in the audit log");
        assertTrue(audit.contains("\"Authorizaion\":\"[REDACTED]\""), audit);
    }
}
