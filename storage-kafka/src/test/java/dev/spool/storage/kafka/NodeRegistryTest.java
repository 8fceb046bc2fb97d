package dev.spool.storage.kafka;

import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.SharedMap;
import dev.spool.storage.StoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, defects 6 and 7: the node registry tracks liveness by heartbeats. A second node with a live node's id is
 * refused; a node restarted after a crash with its own id starts (its old heartbeats stop); a node whose heartbeats
 * stopped (its host down) is not forwarded to, so its leases are answered "expired" at once instead of waiting for a
 * connect that times out. On the shared one-node Kafka 4.4.
 */
@Timeout(120)
class NodeRegistryTest {
    private static final DeadLetterCodec CODEC = (payload, from, id, deliveries) -> payload;

    /** A node's settings (a node other nodes reach registers; a tool does not). */
    private static KafkaSettings settings(String node) throws Exception {
        return KafkaSettings.of(KafkaCluster.shared().bootstrap(), node).withLockDuration(Duration.ofSeconds(6))
                .withReplication(1, 1).withAdvertisedUrl("http://127.0.0.1:1");
    }

    @Test
    void aSecondNodeWithALiveNodesIdShouldBeRefused() throws Exception {
        String id = "dup-" + System.nanoTime();
        try (KafkaQueueStore first = KafkaQueueStore.open(settings(id), CODEC)) {
            StoreException e = assertThrows(StoreException.class, () -> KafkaQueueStore.open(settings(id), CODEC));
            assertTrue(e.getMessage().contains("node.id '" + id + "' is in use"), e.getMessage());
            assertTrue(first.list() != null, "the first node runs on");
            // The user command opens the store with the node's id and no URL: a tool, not a second node.
            try (KafkaQueueStore tool = KafkaQueueStore.open(settings(id).withAdvertisedUrl(null), CODEC)) {
                assertTrue(tool.list() != null);
            }
        }
    }

    @Test
    void aNodeRestartedAfterACrashShouldStartWithItsOwnId() throws Exception {
        String id = "crashed-" + System.nanoTime();
        try (KafkaQueueStore other = KafkaQueueStore.open(settings("writer-" + System.nanoTime()), CODEC)) {
            SharedMap nodes = other.shared("nodes").orElseThrow();
            // What a node killed a moment ago leaves: a recent heartbeat that no newer one follows.
            nodes.put(id, new NodeRegistry.Entry("http://127.0.0.1:9", "old-instance", System.currentTimeMillis())
                    .encode());
            try (KafkaQueueStore restarted = KafkaQueueStore.open(settings(id), CODEC)) {
                assertTrue(restarted.list() != null);
            }
        }
    }

    @Test
    void aNodeWhoseHeartbeatsStoppedShouldNotBeForwardedTo() throws Exception {
        try (KafkaQueueStore s = KafkaQueueStore.open(settings("asker-" + System.nanoTime()), CODEC)) {
            SharedMap nodes = s.shared("nodes").orElseThrow();
            String silent = "silent-" + System.nanoTime();
            String live = "live-" + System.nanoTime();
            long now = System.currentTimeMillis();
            // A host that is down: connects to it would time out rather than be refused.
            nodes.put(silent, new NodeRegistry.Entry("http://10.255.255.1:9", "i1", now - 60_000).encode());
            nodes.put(live, new NodeRegistry.Entry("http://127.0.0.1:9", "i2", now).encode());
            nodes.sync();
            assertEquals(Optional.empty(), s.leaseOwner(silent + ".some-uuid.5.1.ab"), "not forwarded: expired here");
            assertEquals(Optional.of("http://127.0.0.1:9"), s.leaseOwner(live + ".some-uuid.5.1.ab"));
        }
    }
}
