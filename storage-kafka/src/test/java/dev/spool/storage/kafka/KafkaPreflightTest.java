package dev.spool.storage.kafka;

import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.StoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, defect 6: a node checks the Kafka brokers' settings it relies on when it starts, and stops with one line
 * naming what to set (it used to start and misbehave later); and it tells {@code /health/ready} when Kafka stops
 * answering. Each on a fresh one-node Kafka 4.4.
 */
@Timeout(240)
class KafkaPreflightTest {
    private static final DeadLetterCodec CODEC = (payload, from, id, deliveries) -> payload;

    @TempDir
    Path dir;

    @Test
    void aNodeShouldRefuseToStartOnBrokersNotSetUpForItNamingWhatToSet() throws Exception {
        try (KafkaCluster kafka = KafkaCluster.start(dir, 1, 0, Map.of(
                "group.share.max.delivery.count.limit", "10",
                "group.share.min.heartbeat.interval.ms", "1000",
                "auto.create.topics.enable", "true"))) {
            StoreException e = assertThrows(StoreException.class, () -> KafkaQueueStore.open(
                    KafkaSettings.of(kafka.bootstrap(), "preflight").withReplication(1, 1), CODEC));
            String m = e.getMessage();
            assertTrue(m.contains("group.share.max.delivery.count.limit=25 (is 10"), m);
            assertTrue(m.contains("group.share.min.heartbeat.interval.ms=500 (is 1000"), m);
            assertTrue(m.contains("auto.create.topics.enable=false"), m);
            assertTrue(!m.contains("\n"), "one line: " + m);
        }
    }

    @Test
    void theHealthProbeShouldSayWhenKafkaStopsAnswering() throws Exception {
        try (KafkaCluster kafka = KafkaCluster.start(dir, 1);
             KafkaQueueStore s = KafkaQueueStore.open(KafkaSettings.of(kafka.bootstrap(), "probe")
                     .withReplication(1, 1), CODEC)) {
            assertNull(s.engineProblem(), "a cluster that answers");
            kafka.kill(0);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String problem;
            while ((problem = s.engineProblem()) == null) {
                assertTrue(System.nanoTime() < deadline, "the probe noticed the dead broker within 30 s");
                Thread.sleep(200); // the probe looks at most once a second
            }
            assertTrue(problem.contains("does not answer") || problem.contains("alive"), problem);
            assertTrue(!problem.contains("localhost"), "no addresses in an open endpoint's answer: " + problem);
        }
    }
}
