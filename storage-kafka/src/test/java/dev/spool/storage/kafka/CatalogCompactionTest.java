package dev.spool.storage.kafka;

import dev.spool.storage.Blocking;
import dev.spool.storage.CreateResult;
import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.PullResult;
import dev.spool.storage.QueueOptions;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, defect 1: queues must outlive a compacted catalog and a node restart. A fresh one-node Kafka 4.4; the
 * catalog topic is made compacted as Spool before 2.0 made it, with segments that roll at once and a cleaner that
 * does not wait, and compacted for real until a queue's CLAIM record is gone; a node started afterwards must still
 * serve that queue (and its messages), refuse to create it a second time, and leave the catalog kept whole.
 */
@Timeout(300)
class CatalogCompactionTest {
    private static final DeadLetterCodec CODEC = (payload, from, id, deliveries) -> payload;

    @TempDir
    Path dir;

    @Test
    void queuesShouldOutliveACompactedCatalogAndANodeRestart() throws Exception {
        try (KafkaCluster kafka = KafkaCluster.start(dir, 1);
             Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", kafka.bootstrap()))) {
            KafkaSettings settings = KafkaSettings.of(kafka.bootstrap(), "node-a").withReplication(1, 1);
            ConfigResource catalog = new ConfigResource(ConfigResource.Type.TOPIC, Catalog.TOPIC);
            try (KafkaQueueStore a = KafkaQueueStore.open(settings, CODEC)) {
                assertEquals(CreateResult.CREATED, a.create("kept", QueueOptions.ofMaxLength(100)));
                Blocking.push(a, "kept", "before".getBytes(StandardCharsets.UTF_8));
                // The catalog as it was before: compacted, here with segments that roll at once and no lag.
                admin.incrementalAlterConfigs(Map.of(catalog, List.of(
                        set("cleanup.policy", "compact"), set("segment.ms", "100"), set("min.compaction.lag.ms", "0"),
                        set("min.cleanable.dirty.ratio", "0.001"), set("delete.retention.ms", "0"))))
                        .all().get(60, TimeUnit.SECONDS);
                // Appends roll the segment holding "kept"'s records, and the cleaner compacts it: its CLAIM goes.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
                int rolls = 0;
                while (claimsOf("kept", kafka.bootstrap()) > 0) {
                    assertTrue(System.nanoTime() < deadline, "the catalog was not compacted in 180 s");
                    String roll = "roll-" + rolls++;
                    a.create(roll, QueueOptions.ofMaxLength(1));
                    a.delete(roll);
                    Thread.sleep(500); // the broker's log cleaner runs on its own schedule (log.cleaner.backoff.ms)
                }
            }
            try (KafkaQueueStore b = KafkaQueueStore.open(settings, CODEC)) {
                assertTrue(b.list().contains("kept"), "a queue whose CLAIM was compacted away is still listed: "
                        + b.list());
                assertEquals(CreateResult.EXISTS, b.create("kept", QueueOptions.ofMaxLength(100)),
                        "no second topic is made for the same name");
                PullResult got = Blocking.pull(b, "kept");
                assertTrue(got instanceof PullResult.Message m
                        && new String(m.payload(), StandardCharsets.UTF_8).equals("before"), "its message: " + got);
                Config now = admin.describeConfigs(List.of(catalog)).all().get(60, TimeUnit.SECONDS).get(catalog);
                assertEquals("delete", now.get("cleanup.policy").value(), "the catalog is no longer compacted");
                assertEquals("-1", now.get("retention.ms").value(), "and kept forever");
                assertEquals("-1", now.get("retention.bytes").value());
            }
        }
    }

    private static AlterConfigOp set(String key, String value) {
        return new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET);
    }

    /** How many CLAIM records of this name the catalog topic holds now, read from its start. */
    private static int claimsOf(String name, String bootstrap) {
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
                "key.deserializer", StringDeserializer.class.getName(),
                "value.deserializer", ByteArrayDeserializer.class.getName()))) {
            TopicPartition tp = new TopicPartition(Catalog.TOPIC, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
            while (c.position(tp) < end) {
                c.poll(Duration.ofMillis(200)).forEach(all::add);
            }
            int claims = 0;
            for (ConsumerRecord<String, byte[]> r : all) {
                if (name.equals(r.key()) && r.value() != null
                        && QueueEntry.decode(name, r.value()).op() == QueueEntry.Op.CLAIM) {
                    claims++;
                }
            }
            assertFalse(all.isEmpty(), "the catalog holds records");
            return claims;
        }
    }
}
