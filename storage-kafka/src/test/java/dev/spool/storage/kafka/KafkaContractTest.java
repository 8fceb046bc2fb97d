package dev.spool.storage.kafka;

import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStore;
import dev.spool.storage.QueueStoreContractTest;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreContract;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The port's contract suite on a real one-node Kafka 4.4 (a KRaft child JVM), plus the refusals that
 * make this backend's differences explicit rather than silent.
 */
class KafkaContractTest extends QueueStoreContractTest {
    static KafkaSettings settings() throws Exception {
        return KafkaSettings.of(KafkaCluster.shared().bootstrap(), "test-node").withLockDuration(Duration.ofSeconds(6));
    }

    @Override
    protected QueueStore open() throws Exception {
        return KafkaQueueStore.open(settings(), MARK);
    }

    @Test
    void theContractShouldNameWhatIsSoft() {
        StoreContract c = store.contract();
        assertEquals("kafka", c.backend());
        assertFalse(c.exactMaxLength());
        assertFalse(c.exactFifo());
        assertTrue(c.waitsInside());
        assertEquals(Duration.ofSeconds(5), c.maxVisibility());
        assertEquals(2, c.minMaxDeliveries());
        assertEquals(25, c.maxMaxDeliveries());
    }

    @Test
    void requestsKafkaCannotHonourShouldBeRefusedNotWeakened() {
        String q = q("refuse");
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
                () -> store.create(q, new QueueOptions(10, null, 1, null)));
        assertTrue(one.getMessage().contains("2..25"), one.getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.create(q, new QueueOptions(10, null, 26, null)));
        assertFalse(store.list().contains(q), "a refused create leaves nothing behind");
        store.create(q, QueueOptions.ofMaxLength(10));
        assertThrows(IllegalArgumentException.class, () -> store.lease(q, 1, Duration.ofSeconds(6)));
        assertThrows(IllegalArgumentException.class,
                () -> store.settle(q, Settlement.RENEW, List.of("x"), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> store.settle(q, Settlement.NACK, List.of("x"), Duration.ofSeconds(1)));
    }
}
