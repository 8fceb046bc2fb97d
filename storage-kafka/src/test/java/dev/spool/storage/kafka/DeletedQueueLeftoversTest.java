package dev.spool.storage.kafka;

import dev.spool.storage.Blocking;
import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.QueueOptions;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, defect 9: deleting a queue whose share group another node still belongs to used to fail silently and
 * leave the group (and its state) in Kafka forever. Two nodes on a real Kafka 4.4: node b leases from the queue, so
 * its consumer is in the group when node a deletes the queue; the group must be gone once b has let go.
 */
@Timeout(180)
class DeletedQueueLeftoversTest {
    private static final DeadLetterCodec CODEC = (payload, from, id, deliveries) -> payload;

    @Test
    void aDeletedQueuesShareGroupShouldBeRemovedOnceNoNodeUsesIt() throws Exception {
        String bootstrap = KafkaCluster.shared().bootstrap();
        String q = "leftover-" + System.nanoTime();
        try (KafkaQueueStore a = KafkaQueueStore.open(KafkaSettings.of(bootstrap, "leftover-a")
                .withLockDuration(Duration.ofSeconds(6)).withReplication(1, 1), CODEC);
             KafkaQueueStore b = KafkaQueueStore.open(KafkaSettings.of(bootstrap, "leftover-b")
                     .withLockDuration(Duration.ofSeconds(6)).withReplication(1, 1), CODEC);
             Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap))) {
            a.create(q, QueueOptions.ofMaxLength(10));
            Blocking.push(a, q, "m".getBytes(StandardCharsets.UTF_8));
            String group = a.catalogEntry(q).group();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean leased = false;
            while (!leased) {
                assertTrue(System.nanoTime() < deadline, "node b leased the message");
                leased = Blocking.join(b.lease(q, 1, Duration.ofSeconds(5), Duration.ofMillis(500)))
                        instanceof LeaseResult.Granted g && !g.messages().isEmpty();
            }
            assertTrue(shareGroups(admin).contains(group), "node b's consumer is in " + group);
            a.delete(q);
            assertFalse(a.list().contains(q));
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (shareGroups(admin).contains(group)) {
                assertTrue(System.nanoTime() < deadline, group + " of the deleted queue is still there after 90 s: "
                        + shareGroups(admin));
                Thread.sleep(250); // polling Kafka's group list: the nodes' housekeeping runs on its own schedule
            }
        }
    }

    private static Set<String> shareGroups(Admin admin) throws Exception {
        Set<String> ids = new TreeSet<>();
        admin.listGroups(ListGroupsOptions.forShareGroups()).all().get(30, TimeUnit.SECONDS)
                .forEach(g -> ids.add(g.groupId()));
        return ids;
    }
}
