package dev.spool.storage.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Kafka 4.4's RENEW acknowledgement (KIP-1222) does, observed on a real broker: the facts a pump that keeps
 * records beyond one lock would rest on. Prints what it sees; asserts only what it needs to go on.
 */
@Timeout(120)
class ShareRenewSemanticsTest {

    @Test
    void renewedRecordsShouldComeBackWithTheirDeliveryCount() throws Exception {
        String bootstrap = KafkaCluster.shared().bootstrap();
        String topic = "renew-" + System.nanoTime();
        String group = "renew-g-" + System.nanoTime();
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), List.of(
                    new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("share.record.lock.duration.ms", "3000"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
        }
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < 6; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, ("m" + i).getBytes())).get();
            }
        }
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", bootstrap);
        c.put("group.id", group);
        c.put("key.deserializer", ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        c.put("share.acknowledgement.mode", "explicit");
        c.put("share.acquire.mode", "record_limit");
        c.put("max.poll.records", 2);
        try (KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(c)) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<byte[], byte[]>> first = pollSome(consumer);
            System.out.println("RENEW | first poll: " + describe(first));
            for (ConsumerRecord<byte[], byte[]> r : first) {
                consumer.acknowledge(r, AcknowledgeType.RENEW);
            }
            System.out.println("RENEW | commit of RENEW: " + consumer.commitSync(Duration.ofSeconds(10)));
            long renewedAt = System.currentTimeMillis();
            List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
            for (int round = 0; round < 4; round++) {
                Thread.sleep(1200); // four rounds outlast the 3 s lock: only renewals keep the records
                List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
                consumer.poll(Duration.ofMillis(1500)).forEach(got::add);
                System.out.println("RENEW | poll " + (round + 2) + " after " + (System.currentTimeMillis() - renewedAt)
                        + " ms: " + describe(got));
                all.addAll(got);
                for (ConsumerRecord<byte[], byte[]> r : got) {
                    // Keep the first two renewed; accept the rest.
                    consumer.acknowledge(r, r.offset() < 2 ? AcknowledgeType.RENEW : AcknowledgeType.ACCEPT);
                }
                if (!got.isEmpty()) {
                    System.out.println("RENEW | commit: " + consumer.commitSync(Duration.ofSeconds(10)));
                }
            }
            // Q: may a record renewed in the last commit be ACCEPTed before a poll has returned it again?
            List<ConsumerRecord<byte[], byte[]>> last = new ArrayList<>();
            consumer.poll(Duration.ofMillis(1500)).forEach(last::add);
            System.out.println("RENEW | last poll: " + describe(last));
            for (ConsumerRecord<byte[], byte[]> r : last) {
                consumer.acknowledge(r, AcknowledgeType.RENEW);
            }
            consumer.commitSync(Duration.ofSeconds(10));
            try {
                consumer.acknowledge(last.get(0), AcknowledgeType.ACCEPT);
                System.out.println("RENEW | ACCEPT of a renewed record before it came back: allowed; commit "
                        + consumer.commitSync(Duration.ofSeconds(10)));
            } catch (RuntimeException e) {
                System.out.println("RENEW | ACCEPT of a renewed record before it came back: " + e);
            }
            // Held past three lock durations by renewing: never handed out with a higher count.
            assertTrue(all.stream().anyMatch(r -> r.offset() == 0), "a renewed record comes back from poll");
            assertTrue(all.stream().filter(r -> r.offset() < 2).allMatch(r -> r.deliveryCount().orElse((short) 1) == 1),
                    "RENEW does not count a delivery: " + describe(all));
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> pollSome(KafkaShareConsumer<byte[], byte[]> consumer) {
        long deadline = System.currentTimeMillis() + 30_000;
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        while (got.isEmpty() && System.currentTimeMillis() < deadline) {
            consumer.poll(Duration.ofMillis(500)).forEach(got::add);
        }
        return got;
    }

    private static String describe(List<ConsumerRecord<byte[], byte[]>> rs) {
        List<String> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : rs) {
            out.add(r.offset() + "(dc=" + r.deliveryCount().map(String::valueOf).orElse("?") + ")");
        }
        return out.toString();
    }
}
