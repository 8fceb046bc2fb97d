package dev.spool.benchmarks.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.broker.Broker;
import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The load tool against a real in-process broker: counts must match what the broker stored. */
class LoadToolIntegrationTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void pushThenPullShouldMoveExactlyTheRequestedMessages() throws Exception {
        Files.writeString(dir.resolve("config.yaml"), "server:\n  port: 0\n");
        UserStore.load(dir.resolve("users.yaml")).put("admin", Role.ADMINISTRATOR, "load-tool-password".toCharArray());
        try (Broker b = Broker.start(ConfigLoader.load(dir.resolve("config.yaml")),
                new PrintStream(OutputStream.nullOutputStream()))) {
            String url = "http://127.0.0.1:" + b.port();
            JsonNode push = run(List.of("--url", url, "--password", "load-tool-password", "--mode", "push", "--messages", "500",
                    "--connections", "4", "--warmup", "0s", "--create-queue", "--baseline", "--json"));
            assertEquals(500, push.path("push").path("messages").asLong());
            assertTrue(push.path("trivial").path("requests").asLong() > 0);
            assertTrue(push.path("ratio_to_trivial").asDouble() > 0);
            assertTrue(push.path("push").path("p99Ms").asDouble() > 0);
            JsonNode pull = run(List.of("--url", url, "--password", "load-tool-password", "--mode", "pull", "--messages", "500",
                    "--connections", "2", "--warmup", "0s", "--json"));
            assertEquals(500, pull.path("pull").path("messages").asLong());
            JsonNode errors = run(List.of("--url", url, "--password", "load-tool-password", "--mode", "push", "--queue", "missing",
                    "--messages", "1", "--duration", "1s", "--connections", "1", "--warmup", "0s", "--json"));
            assertTrue(errors.path("push").path("errors").path("404").asLong() > 0, errors.toString());
        }
    }

    @Test
    @Timeout(120)
    void drainsShouldReceiveEveryMessageOfTheBacklogOnce() throws Exception {
        Files.writeString(dir.resolve("config.yaml"), "server:\n  port: 0\n");
        UserStore.load(dir.resolve("users.yaml")).put("admin", Role.ADMINISTRATOR, "load-tool-password".toCharArray());
        try (Broker b = Broker.start(ConfigLoader.load(dir.resolve("config.yaml")),
                new PrintStream(OutputStream.nullOutputStream()))) {
            String url = "http://127.0.0.1:" + b.port();
            for (String mode : List.of("drain", "lease-drain")) {
                // 1050: the last fill batch and the last drain request are partial.
                JsonNode r = run(List.of("--url", url, "--password", "load-tool-password", "--mode", mode, "--queue", "backlog",
                        "--backlog", "1050", "--batch", "100", "--size", "300", "--create-queue", "--json"));
                JsonNode s = r.path(mode.replace('-', '_'));
                assertEquals(1050, s.path("messages").asLong(), r.toString());
                assertEquals(1050, s.path("distinct").asLong(), r.toString());
                assertEquals(0, s.path("duplicates").asLong(), r.toString());
                assertTrue(s.path("complete").asBoolean(), r.toString());
                assertTrue(s.path("messages_per_second").asDouble() > 0, r.toString());
            }
        }
    }

    private static JsonNode run(List<String> args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = LoadTool.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        assertEquals(0, status, out.toString(StandardCharsets.UTF_8));
        return new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
    }
}
