package dev.spool.storage.kafka;

import dev.spool.storage.Blocking;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, defect 8: a node held every idempotency key of the window in memory (a day of keyed pushes, with no
 * bound). Now it holds at most {@code kafka.max_keys_in_memory}; a key it dropped is still honoured, found in the
 * keys topic when the node's Bloom filter says it may be one it dropped, on this node and on one that never held it.
 */
@Timeout(180)
class BoundedKeysTest {
    private static final int MAX_KEYS = 10;

    @Test
    void aNodeShouldHoldAtMostItsBoundOfKeysAndStillHonourTheOnesItDropped() throws Exception {
        String bootstrap = KafkaCluster.shared().bootstrap();
        String q = "keys-" + System.nanoTime();
        List<Long> ids = new ArrayList<>();
        try (KafkaQueueStore a = KafkaQueueStore.open(KafkaSettings.of(bootstrap, "keys-a-" + System.nanoTime())
                .withReplication(1, 1).withMaxKeysInMemory(MAX_KEYS), dev.spool.storage.DeadLetterCodec.IDENTITY)) {
            a.create(q, new QueueOptions(1000, null, 5, null));
            for (int i = 0; i < 50; i++) {
                ids.add(stored(push(a, q, "k" + i)).firstId());
                assertTrue(a.keysInMemory() <= MAX_KEYS, "held " + a.keysInMemory() + " keys after " + (i + 1)
                        + " pushes, bound " + MAX_KEYS);
            }
            // The first keys were dropped from memory long ago: a retry of each is still a duplicate.
            for (int i = 0; i < 15; i++) {
                PushResult.Stored again = stored(push(a, q, "k" + i));
                assertEquals(ids.get(i), again.firstId(), "retry of k" + i + " answered its first id");
                assertEquals(1, again.duplicates(), "retry of k" + i + " not stored again");
            }
            // A new key is still stored.
            PushResult.Stored fresh = stored(push(a, q, "new"));
            assertEquals(0, fresh.duplicates());
            assertTrue(a.keysInMemory() <= MAX_KEYS);
        }
        // A node started afterwards reads the keys topic from its start under the same bound, and honours them too.
        try (KafkaQueueStore b = KafkaQueueStore.open(KafkaSettings.of(bootstrap, "keys-b-" + System.nanoTime())
                .withReplication(1, 1).withMaxKeysInMemory(MAX_KEYS), dev.spool.storage.DeadLetterCodec.IDENTITY)) {
            assertTrue(b.keysInMemory() <= MAX_KEYS, "held " + b.keysInMemory());
            for (int i : new int[] {0, 7, 33, 49}) {
                PushResult.Stored again = stored(push(b, q, "k" + i));
                assertEquals(ids.get(i), again.firstId(), "retry of k" + i + " on another node");
                assertEquals(1, again.duplicates());
            }
            assertEquals(51, ((dev.spool.storage.QueueStats) b.stats(q)).depth(), "nothing stored twice");
        }
    }

    private static PushResult push(KafkaQueueStore s, String q, String key) {
        return Blocking.pushBatch(s, q, List.of(("m-" + key).getBytes(StandardCharsets.UTF_8)), List.of(key));
    }

    private static PushResult.Stored stored(PushResult r) {
        assertTrue(r instanceof PushResult.Stored, String.valueOf(r));
        return (PushResult.Stored) r;
    }
}
