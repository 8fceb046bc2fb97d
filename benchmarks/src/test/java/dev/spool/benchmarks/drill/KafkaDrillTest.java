package dev.spool.benchmarks.drill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The drill in cluster mode, for real: a local three-node Kafka cluster (child JVMs) and two Spool nodes (the
 * broker jar) over it; each cycle kills a Spool node or a Kafka node with SIGKILL and starts it again; then
 * everything acknowledged is accounted for. Runs with {@code -Pkafka}.
 */
class KafkaDrillTest {
    @ParameterizedTest
    @ValueSource(strings = {"node", "broker"})
    @Timeout(400)
    void shortKafkaDrillShouldPassWithNothingLostOrDuplicated(String kill) throws Exception {
        drill(kill);
    }

    /**
     * Issue 21, network faults, every Kafka node and Spool node on a host of its own (a network namespace on a
     * bridge): a Spool node's host taken down (every packet to and from it dropped, so connects time out, then the
     * node killed and started again) while 2 % of the Spool nodes' packets are lost; and a Spool node cut off from
     * Kafka and the other node while its clients still reach it, with 20 ms delay each way to Kafka (this cut found
     * a message delivered twice in 7 of 10 runs, from a fetch answer held up in the cut; see LateFetchAnswerTest).
     * Needs root, network namespaces and iptables (CI installs iptables and iproute2).
     */
    @ParameterizedTest
    @CsvSource({"host, 0.02, 0", "partition, 0, 20"})
    @Timeout(400)
    void networkFaultDrillShouldPassWithNothingLostOrDuplicated(String kill, String loss, String delayMs)
            throws Exception {
        String why = NetFault.unavailable();
        org.junit.jupiter.api.Assumptions.assumeTrue(why == null, "skipped: " + why);
        JsonNode report = drill(kill, "--loss", loss, "--delay-ms", delayMs);
        // The faults took: with loss packets were dropped, and with a delay Kafka's traffic went through the proxies.
        assertEquals(!loss.equals("0"), report.path("dropped_packets").asLong() > 0, report.toString());
        assertEquals(!delayMs.equals("0"), report.path("delayed_bytes").asLong() > 0, report.toString());
    }

    private static JsonNode drill(String kill, String... extra) throws Exception {
        Path jar = Path.of(System.getProperty("spool.broker.jar", "../broker/target/spool-broker.jar"));
        assertTrue(Files.isRegularFile(jar), "the broker jar is built before this module: " + jar);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new java.util.ArrayList<>(List.of("--broker-jar", jar.toString(), "--backend", "kafka",
                "--kill", kill, "--cycles", "2", "--min-uptime", "8s", "--max-uptime", "10s", "--json"));
        args.addAll(List.of(extra));
        int status = Drill.run(args,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, text + err.toString(StandardCharsets.UTF_8));
        JsonNode report = new ObjectMapper().readTree(text.substring(text.indexOf('{')));
        assertEquals("PASS", report.path("verdict").asText());
        assertEquals("kafka", report.path("backend").asText());
        assertEquals(kill, report.path("kill").asText());
        // The drill did real work across the faults. Pushes stall while Kafka fails a dead leader over, and three
        // Kafka JVMs and two Spool JVMs share two cores with the test: a CI run acknowledged exactly 100 in two
        // broker kills (others 260 to 1,500), so the bound is 50, with 8 s or more between faults.
        assertTrue(report.path("acknowledged").asLong() > 50, text);
        assertEquals(0, report.path("duplicated").asLong(), text);
        assertEquals(0, report.path("unexpected").asLong(), text);
        assertEquals(0, report.path("deadLetteredUnseen").asLong(), text);
        assertTrue(report.path("lost").asLong() <= report.path("unansweredPulls").asLong(), text);
        assertEquals(2, report.path("cycles").asInt());
        return report;
    }
}
