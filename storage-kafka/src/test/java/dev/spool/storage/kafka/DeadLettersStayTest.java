package dev.spool.storage.kafka;

import dev.spool.storage.Blocking;
import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStats;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, defect 4: dead letters vanished. A dead-letter queue's own share group archived a dead letter for good
 * after 25 acquisitions (leases nacked, redrives refused as full), and Kafka's dead-lettering is asynchronous and
 * drops the record when its write fails. Now the node writes a record at its limit to the dead-letter queue itself,
 * and writes a dead letter near its limit to its own topic again: a dead letter stays until redriven or deleted.
 */
@Timeout(180)
class DeadLettersStayTest {
    private static final DeadLetterCodec CODEC = (payload, from, id, deliveries) ->
            (new String(payload, StandardCharsets.UTF_8) + "|from=" + from + "|id=" + id + "|deliveries=" + deliveries)
                    .getBytes(StandardCharsets.UTF_8);
    private static KafkaQueueStore store;

    @BeforeAll
    static void open() throws Exception {
        store = KafkaQueueStore.open(KafkaSettings.of(KafkaCluster.shared().bootstrap(), "dlq-" + System.nanoTime())
                .withLockDuration(Duration.ofSeconds(10)).withReplication(1, 1), CODEC);
    }

    @AfterAll
    static void close() {
        store.close();
    }

    @Test
    void aDeadLetterShouldOutliveMoreNacksThanTheDeliveryLimit() {
        String q = "stay-" + System.nanoTime();
        store.create(q, new QueueOptions(100, null, 2, null));
        Blocking.push(store, q, "job".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 2; i++) {
            nack(q, leaseOne(q));
        }
        String dlq = q + ".dlq";
        // 30 leases and nacks of the dead letter: past its own group's limit of 25.
        Leased letter = null;
        for (int i = 0; i < 30; i++) {
            letter = leaseOne(dlq);
            assertEquals("job|from=" + q + "|id=1|deliveries=2", text(letter), "lease " + i + " of the dead letter");
            nack(dlq, letter);
        }
        letter = leaseOne(dlq);
        assertEquals("job|from=" + q + "|id=1|deliveries=2", text(letter), "still there after 31 deliveries");
        Blocking.ack(store, dlq, List.of(letter.lease()));
        assertEquals(1, ((QueueStats) store.stats(q)).counts().deadLettered(), "this node moved it");
    }

    @Test
    void aMessageAtItsLimitShouldReachTheDeadLetterQueueWhenKafkasOwnWriteWouldFail() throws Exception {
        String q = "write-" + System.nanoTime();
        store.create(q, new QueueOptions(100, null, 2, null));
        // Point Kafka's own dead-lettering at a topic that does not exist (topics are not created automatically):
        // its write fails, and it used to drop the record.
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", KafkaCluster.shared().bootstrap()))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP,
                    store.catalogEntry(q).group()), List.of(new AlterConfigOp(new ConfigEntry(
                    "errors.deadletterqueue.topic.name", "dlq.nowhere-" + System.nanoTime()), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        Blocking.push(store, q, "task".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 2; i++) {
            nack(q, leaseOne(q));
        }
        Leased letter = leaseOne(q + ".dlq");
        assertEquals("task|from=" + q + "|id=1|deliveries=2", text(letter));
        Blocking.ack(store, q + ".dlq", List.of(letter.lease()));
    }

    private static Leased leaseOne(String q) {
        LeaseResult r = Blocking.join(store.lease(q, 1, Duration.ofSeconds(5), Duration.ofSeconds(20)));
        List<Leased> got = ((LeaseResult.Granted) r).messages();
        assertEquals(1, got.size(), "a message of " + q);
        return got.get(0);
    }

    private static void nack(String q, Leased l) {
        assertTrue(Blocking.nack(store, q, List.of(l.lease()), Duration.ZERO).accepted() == 1, "nacked " + l);
    }

    private static String text(Leased l) {
        return new String(l.payload(), StandardCharsets.UTF_8);
    }
}
