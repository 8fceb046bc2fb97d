package dev.spool.benchmarks.load;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoadOptionsTest {
    @Test
    void defaultsShouldApplyWhenOnlyATokenIsGiven() {
        LoadOptions o = LoadOptions.parse(List.of("--token", "t"));
        assertEquals(URI.create("http://127.0.0.1:7500"), o.url());
        assertEquals(LoadOptions.Mode.PUSH, o.mode());
        assertEquals(64, o.connections());
        assertEquals(Duration.ofSeconds(10), o.duration());
        assertEquals(0, o.messages());
        assertEquals(256, o.size());
        assertEquals("load", o.queue());
        assertFalse(o.baseline());
        assertFalse(o.json());
    }

    @Test
    void everyOptionShouldBeRead() {
        LoadOptions o = LoadOptions.parse(List.of("--url", "http://10.0.0.1:9000", "--user", "bob", "--password", "pw",
                "--queue", "jobs", "--mode", "pair", "--connections", "8", "--duration=500ms", "--messages", "1000",
                "--size", "4096", "--batch", "50", "--warmup", "0s", "--baseline", "--create-queue", "--json"));
        assertEquals(URI.create("http://10.0.0.1:9000"), o.url());
        assertEquals("bob", o.user());
        assertEquals("pw", o.password());
        assertEquals("jobs", o.queue());
        assertEquals(LoadOptions.Mode.PAIR, o.mode());
        assertEquals(8, o.connections());
        assertEquals(Duration.ofMillis(500), o.duration());
        assertEquals(1000, o.messages());
        assertEquals(4096, o.size());
        assertEquals(50, o.batch());
        assertEquals(Duration.ZERO, o.warmup());
        assertTrue(o.baseline() && o.createQueue() && o.json());
    }

    @Test
    void badArgumentsShouldBeRefusedWithAMessageNamingThem() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(List.of("--token", "t", "--mode", "fast"))).getMessage().contains("--mode"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(List.of("--token", "t", "--connections", "0"))).getMessage().contains("--connections"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(List.of("--token", "t", "--duration", "soon"))).getMessage().contains("--duration"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(List.of("--token", "t", "--colour", "red"))).getMessage().contains("--colour"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(List.of("--token", "t", "--url", "ftp://x"))).getMessage().contains("--url"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(List.of("--token"))).getMessage().contains("needs a value"));
    }

    @Test
    void drainModesShouldDefaultToOneConnectionAndABacklogOf200000WithNoWarmup() {
        for (String mode : List.of("drain", "lease-drain")) {
            LoadOptions o = LoadOptions.parse(List.of("--token", "t", "--mode", mode));
            assertTrue(o.mode().drains(), mode);
            assertEquals(1, o.connections());
            assertEquals(200_000, o.backlog());
            assertEquals(100, o.batch());
            assertEquals(Duration.ZERO, o.warmup());
            assertEquals(Duration.ofMinutes(10), o.duration());
        }
        assertEquals(LoadOptions.Mode.LEASE_DRAIN, LoadOptions.parse(List.of("--token", "t", "--mode", "lease-drain")).mode());
    }

    @Test
    void drainOptionsShouldBeRead() {
        LoadOptions o = LoadOptions.parse(List.of("--token", "t", "--mode", "drain", "--backlog", "5000", "--batch", "50",
                "--size", "300", "--connections", "2", "--duration", "1m", "--create-queue"));
        assertEquals(LoadOptions.Mode.DRAIN, o.mode());
        assertEquals(5000, o.backlog());
        assertEquals(50, o.batch());
        assertEquals(300, o.size());
        assertEquals(2, o.connections());
        assertEquals(Duration.ofMinutes(1), o.duration());
        assertTrue(o.createQueue());
    }

    @Test
    void timedModesShouldKeepTheirDefaultsAndRefuseABacklog() {
        LoadOptions o = LoadOptions.parse(List.of("--token", "t", "--mode", "batch"));
        assertFalse(o.mode().drains());
        assertEquals(64, o.connections());
        assertEquals(Duration.ofSeconds(3), o.warmup());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(List.of("--token", "t", "--backlog", "10"))).getMessage().contains("--backlog"));
    }

    @Test
    void drainModesShouldRefuseOptionsOfTimedRuns() {
        for (List<String> extra : List.of(List.of("--messages", "10"), List.of("--warmup", "3s"), List.of("--baseline"))) {
            List<String> argv = new java.util.ArrayList<>(List.of("--token", "t", "--mode", "drain"));
            argv.addAll(extra);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> LoadOptions.parse(argv)).getMessage()
                    .contains(extra.get(0)), extra.toString());
        }
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> LoadOptions.parse(List.of("--token", "t", "--mode", "drain", "--backlog", "0"))).getMessage()
                .contains("--backlog"));
    }

    @Test
    void messageShouldBeValidJsonOfAboutTheRequestedSize() throws Exception {
        byte[] m = LoadTool.message(1000);
        assertEquals(1000, m.length);
        var n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(m);
        assertTrue(n.path("body").isObject());
        var batch = new com.fasterxml.jackson.databind.ObjectMapper().readTree(LoadTool.batch(300, 7));
        assertEquals(7, batch.size());
    }
}
