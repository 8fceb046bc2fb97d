package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** With storage.fsync interval or always, pushes are answered after a sync and say so. */
class DurabilityApiTest {
    @TempDir
    Path dir;

    private void pushesShouldReportDiskDurability(String policy) throws Exception {
        try (TestBroker b = new TestBroker(dir, "storage:\n  fsync: " + policy + "\n  fsync_interval_ms: 2\n",
                Clock.systemUTC())) {
            b.admin("POST", "/queues/d", null);
            List<CompletableFuture<JsonNode>> all = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                all.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return TestBroker.json(b.as(Role.AGENT, "POST", "/queues/d/messages", "{\"body\":{}}"));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (CompletableFuture<JsonNode> f : all) {
                assertEquals("disk", f.get().path("durability").asText(), f.get().toString());
            }
            JsonNode batch = TestBroker.json(b.as(Role.AGENT, "POST", "/queues/d/messages/batch", "[{\"body\":{}}]"));
            assertEquals("disk", batch.path("durability").asText());
            assertEquals(21, TestBroker.json(b.as(Role.BASIC, "GET", "/queues/d", null)).path("depth").asInt());
            assertEquals(1, TestBroker.json(b.as(Role.AGENT, "GET", "/queues/d/messages/first", null)).path("id").asInt());
        }
    }

    @Test
    void alwaysShouldAnswerDiskDurability() throws Exception {
        pushesShouldReportDiskDurability("always");
    }

    @Test
    void intervalShouldAnswerDiskDurability() throws Exception {
        pushesShouldReportDiskDurability("interval");
    }
}
