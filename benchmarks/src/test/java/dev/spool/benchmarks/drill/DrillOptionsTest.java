package dev.spool.benchmarks.drill;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DrillOptionsTest {
    @Test
    void defaultsAndOptionsShouldBeRead() {
        DrillOptions d = DrillOptions.parse(List.of());
        assertEquals(5, d.cycles());
        assertEquals(DrillOptions.Corruption.NONE, d.corrupt());
        assertEquals(Path.of("broker/target/spool-broker.jar"), d.brokerJar());
        DrillOptions o = DrillOptions.parse(List.of("--cycles", "2", "--corrupt", "journal-tail", "--min-uptime", "200ms",
                "--max-uptime", "1s", "--fsync", "always", "--producers", "3", "--consumers", "1", "--queues", "4",
                "--seed", "7", "--json"));
        assertEquals(2, o.cycles());
        assertEquals(DrillOptions.Corruption.JOURNAL_TAIL, o.corrupt());
        assertEquals(Duration.ofMillis(200), o.minUptime());
        assertEquals("always", o.fsync());
        assertEquals(4, o.queues());
        assertEquals(7, o.seed());
        assertTrue(o.json());
        assertEquals(0, o.loss());
        assertEquals(0, o.delayMs());
        DrillOptions n = DrillOptions.parse(List.of("--backend", "kafka", "--kill", "partition", "--loss", "0.05",
                "--delay-ms", "30"));
        assertEquals(0.05, n.loss());
        assertEquals(30, n.delayMs());
        assertTrue(NetworkFaults.wanted(n));
        assertTrue(NetworkFaults.wanted(DrillOptions.parse(List.of("--loss", "0.01"))), "loss alone runs on hosts");
        assertTrue(!NetworkFaults.wanted(DrillOptions.parse(List.of("--backend", "kafka", "--kill", "broker"))));
    }

    @Test
    void badOptionsShouldBeRefused() {
        assertThrows(IllegalArgumentException.class, () -> DrillOptions.parse(List.of("--corrupt", "everything")));
        assertThrows(IllegalArgumentException.class, () -> DrillOptions.parse(List.of("--fsync", "sometimes")));
        assertThrows(IllegalArgumentException.class,
                () -> DrillOptions.parse(List.of("--min-uptime", "5s", "--max-uptime", "1s")));
        assertThrows(IllegalArgumentException.class, () -> DrillOptions.parse(List.of("--cycles", "-1")));
        assertThrows(IllegalArgumentException.class, () -> DrillOptions.parse(List.of("--loss", "0.9")));
        assertThrows(IllegalArgumentException.class, () -> DrillOptions.parse(List.of("--loss", "some")));
        assertThrows(IllegalArgumentException.class, () -> DrillOptions.parse(List.of("--delay-ms", "20")),
                "delay is between Spool nodes and Kafka");
    }
}
