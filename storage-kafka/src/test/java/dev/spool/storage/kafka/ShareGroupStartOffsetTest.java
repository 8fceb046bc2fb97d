package dev.spool.storage.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The Kafka 4.4 facts a subscription on Kafka rests on (issue 22), on a real broker: a share group that never had a
 * member can be given its start offset with alterShareGroupOffsets, its first member starts there, and the offset
 * cannot be altered while a member is joined.
 */
@Timeout(180)
class ShareGroupStartOffsetTest {

    @Test
    void aNewGroupShouldStartWhereItsOffsetWasSetAndRefuseAnAlterWhileJoined() throws Exception {
        String bootstrap = KafkaCluster.shared().bootstrap();
        String topic = "start-" + System.nanoTime();
        String group = "start-g-" + System.nanoTime();
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            Map<String, Object> p = new HashMap<>();
            p.put("bootstrap.servers", bootstrap);
            p.put("key.serializer", ByteArraySerializer.class.getName());
            p.put("value.serializer", ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(topic, 0, null, ("m" + i).getBytes())).get();
                }
            }
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), List.of(
                    new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("share.heartbeat.interval.ms", "500"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
            // The group has never had a member: its start offset is set before anyone joins.
            admin.alterShareGroupOffsets(group, Map.of(tp, 6L)).all().get(30, TimeUnit.SECONDS);
            var info = admin.listShareGroupOffsets(Map.of(group, new ListShareGroupOffsetsSpec()
                    .topicPartitions(List.of(tp)))).partitionsToOffsetInfo(group).get(30, TimeUnit.SECONDS);
            System.out.println("START | after the alter, before any member: " + info);

            Map<String, Object> c = new HashMap<>();
            c.put("bootstrap.servers", bootstrap);
            c.put("group.id", group);
            c.put("key.deserializer", ByteArrayDeserializer.class.getName());
            c.put("value.deserializer", ByteArrayDeserializer.class.getName());
            c.put("share.acknowledgement.mode", "explicit");
            try (KafkaShareConsumer<byte[], byte[]> consumer = new KafkaShareConsumer<>(c)) {
                consumer.subscribe(List.of(topic));
                List<Long> offsets = new ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (offsets.size() < 4 && System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        offsets.add(r.offset());
                        consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                    consumer.commitSync(Duration.ofSeconds(10));
                }
                System.out.println("START | the first member received offsets " + offsets);
                assertEquals(List.of(6L, 7L, 8L, 9L), offsets, "the first member starts at the offset set");

                ExecutionException joined = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                        () -> admin.alterShareGroupOffsets(group, Map.of(tp, 0L)).all().get(30, TimeUnit.SECONDS));
                System.out.println("START | an alter while a member is joined: " + joined.getCause());
                assertInstanceOf(GroupNotEmptyException.class, joined.getCause());
            }
        }
    }
}
