package dev.spool.benchmarks.drill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A short real drill: the broker jar killed with SIGKILL and restarted, then everything accounted for. */
class DrillIntegrationTest {
    @Test
    @Timeout(240)
    void shortDrillShouldPassWithNothingLostOrDuplicated() throws Exception {
        Path jar = Path.of(System.getProperty("spool.broker.jar", "../broker/target/spool-broker.jar"));
        assertTrue(Files.isRegularFile(jar), "the broker jar is built before this module: " + jar);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Drill.run(List.of("--broker-jar", jar.toString(), "--cycles", "3", "--min-uptime", "700ms",
                "--max-uptime", "1500ms", "--corrupt", "checkpoint", "--subscriptions", "2", "--json"),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, text + err.toString(StandardCharsets.UTF_8));
        JsonNode report = new ObjectMapper().readTree(text);
        assertEquals("PASS", report.path("verdict").asText());
        assertTrue(report.path("acknowledged").asLong() > 100, text);
        assertEquals(0, report.path("duplicated").asLong());
        assertEquals(0, report.path("unexpected").asLong());
        assertTrue(report.path("lost").asLong() <= report.path("unansweredPulls").asLong(), text);
        assertEquals(3, report.path("cycles").asInt());
        // Two named subscriptions of every queue, consumed beside it: each received every acknowledged push once.
        assertEquals(2, report.path("subscriptions").size(), text);
        for (JsonNode s : report.path("subscriptions")) {
            assertEquals(0, s.path("duplicated").asLong(), s.path("name") + ": " + text);
            assertEquals(0, s.path("unexpected").asLong(), s.path("name") + ": " + text);
            assertTrue(s.path("lost").asLong() <= s.path("unansweredPulls").asLong(), s.path("name") + ": " + text);
            assertTrue(s.path("delivered").asLong() > 100, text);
            assertTrue(s.path("pass").asBoolean(), text);
        }
    }
}
