package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import dev.spool.storage.journal.FaultSeam;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sync that fails under {@code fsync: always}, seen through the API: the push is told its outcome is unknown
 * (503 OUTCOME_UNKNOWN, never "not stored"), the queue then refuses changes (503) and says why in its stats, and
 * {@code /health/ready} turns 503 naming it.
 */
@Timeout(60)
class FailedSyncApiTest {
    @TempDir
    Path dir;

    @AfterEach
    void disarm() {
        FaultSeam.clear();
    }

    @Test
    void aFailedSyncShouldBeReportedAsUnknownThenFencedInStatsAndHealth() throws Exception {
        try (TestBroker b = new TestBroker(dir, "storage:\n  fsync: \"always\"", Clock.systemUTC())) {
            assertEquals(201, b.admin("POST", "/queues/q", "{\"max_length\":100}").statusCode());
            FaultSeam.fail("JOURNAL_SYNC", 1);
            HttpResponse<String> push = b.as(Role.AGENT, "POST", "/queues/q/messages", "{\"body\":{\"n\":1}}");
            assertEquals(503, push.statusCode(), push.body());
            JsonNode problem = TestBroker.json(push);
            assertEquals("OUTCOME_UNKNOWN", problem.path("code").asText());
            assertTrue(problem.path("detail").asText().contains("Idempotency-Key"), push.body());
            assertFalse(problem.path("detail").asText().contains("nothing was stored"), push.body());
            assertFalse(push.body().contains("Exception") || push.body().contains("Input/output"),
                    "the operating system's and the JVM's words go to the log, not to the client: " + push.body());

            HttpResponse<String> again = b.as(Role.AGENT, "POST", "/queues/q/messages", "{\"body\":{\"n\":2}}");
            assertEquals(503, again.statusCode(), again.body());
            assertEquals("UNAVAILABLE", TestBroker.json(again).path("code").asText());

            JsonNode stats = TestBroker.json(b.as(Role.BASIC, "GET", "/queues/q", null));
            assertFalse(stats.path("writable").asBoolean(true), stats.toString());
            assertTrue(stats.path("failure").asText().contains("sync"), stats.toString());

            HttpResponse<String> ready = b.send("GET", "/health/ready", null, null);
            assertEquals(503, ready.statusCode(), ready.body());
            JsonNode queues = TestBroker.json(ready).path("checks").path("queues");
            assertFalse(queues.path("ok").asBoolean(true), ready.body());
            assertTrue(queues.path("failed").has("q"), ready.body());
            assertFalse(ready.body().contains("Exception") || stats.toString().contains("Exception"),
                    "no internal error text where anyone can read it: " + ready.body() + " " + stats);
        }
    }
}
