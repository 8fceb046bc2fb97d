package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10, health: liveness, and readiness naming each check, 200 or 503. */
@Timeout(60)
class HealthTest {
    @TempDir
    Path dir;

    @Test
    void aHealthyBrokerShouldBeLiveAndReadyWithEveryCheckNamed() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            HttpResponse<String> live = b.send("GET", "/health/live", null, null);
            assertEquals(200, live.statusCode());
            assertEquals("ok", TestBroker.json(live).path("status").asText());
            HttpResponse<String> ready = b.send("GET", "/health/ready", null, null);
            assertEquals(200, ready.statusCode(), ready.body());
            JsonNode r = TestBroker.json(ready);
            assertEquals("ready", r.path("status").asText());
            for (String check : new String[]{"store", "disk", "audit"}) {
                assertTrue(r.path("checks").path(check).path("ok").asBoolean(), check + ": " + ready.body());
            }
            assertTrue(r.path("checks").path("disk").path("free_bytes").asLong() > 0);
            assertEquals(200, b.send("GET", "/health", null, null).statusCode(), "the old check still answers");
        }
    }

    @Test
    void aDiskUnderTheFloorShouldMakeItNotReadyButStillLive() throws Exception {
        // A floor of an exabyte: no disk here is above it.
        try (TestBroker b = new TestBroker(dir, "storage:\n  min_free_bytes: 1000000000000000000\n", Clock.systemUTC())) {
            assertEquals(200, b.send("GET", "/health/live", null, null).statusCode());
            HttpResponse<String> ready = b.send("GET", "/health/ready", null, null);
            assertEquals(503, ready.statusCode());
            JsonNode r = TestBroker.json(ready);
            assertEquals("not_ready", r.path("status").asText());
            assertFalse(r.path("checks").path("disk").path("ok").asBoolean(), ready.body());
            assertTrue(r.path("checks").path("store").path("ok").asBoolean());
        }
    }

    @Test
    void aStoppedAuditWriterShouldMakeItNotReady() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            b.broker.audit().close();
            HttpResponse<String> ready = b.send("GET", "/health/ready", null, null);
            assertEquals(503, ready.statusCode());
            assertFalse(TestBroker.json(ready).path("checks").path("audit").path("ok").asBoolean(), ready.body());
        }
    }

    @Test
    void withTheAuditLogOffItsCheckShouldSayOffAndPass() throws Exception {
        try (TestBroker b = new TestBroker(dir, "audit.enabled: false\n", Clock.systemUTC())) {
            HttpResponse<String> ready = b.send("GET", "/health/ready", null, null);
            assertEquals(200, ready.statusCode(), ready.body());
            assertTrue(TestBroker.json(ready).path("checks").path("audit").path("detail").asText().startsWith("off"));
        }
    }
}
