package dev.spool.storage.kafka;

import dev.spool.storage.Blocking;
import dev.spool.storage.Leased;
import dev.spool.storage.PullResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStats;
import dev.spool.storage.QueueStore;
import dev.spool.storage.QueueStoreContractTest;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreContract;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
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
        return KafkaSettings.of(KafkaCluster.shared().bootstrap(), "test-node").withLockDuration(Duration.ofSeconds(6))
                .withReplication(1, 1);
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
        // Issue 21, defect 2: leases of any length, renewals and delayed nacks, as on the journal (the pump renews
        // the broker's lock while a lease needs it; KafkaLeaseRenewalTest holds one past several locks).
        assertEquals(StoreContract.EXACT.maxVisibility(), c.maxVisibility());
        assertTrue(c.renew());
        assertTrue(c.delayedNack());
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
        String never = store.contract().refuseMaxDeliveries(0);
        assertTrue(never != null && never.contains("never dead-letter"), "the API refuses 0: " + never);
        assertFalse(store.list().contains(q), "a refused create leaves nothing behind");
        store.create(q, QueueOptions.ofMaxLength(10));
        assertThrows(IllegalArgumentException.class, () -> store.lease(q, 1, Duration.ofHours(13)),
                "visibility beyond the contract's longest");
    }

    /** Issue 21: a node's stats count its leases in flight and what it did, where they used to be always 0. */
    @Test
    void statsShouldCountThisNodesLeasesSettlementsAndDuplicates() {
        String q = q("tally");
        store.create(q, QueueOptions.ofMaxLength(100));
        for (int i = 0; i < 4; i++) {
            Blocking.push(store, q, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
        Blocking.pushBatch(store, q, List.of("k".getBytes(StandardCharsets.UTF_8)), List.of("key-1"));
        Blocking.pushBatch(store, q, List.of("k".getBytes(StandardCharsets.UTF_8)), List.of("key-1"));
        List<Leased> held = new ArrayList<>();
        for (int tries = 0; held.size() < 3 && tries < 10; tries++) {
            held.addAll(leaseWithin(q, 3 - held.size(), Duration.ofSeconds(5)));
        }
        assertEquals(3, held.size(), "three leased");
        QueueStats s = (QueueStats) store.stats(q);
        assertEquals(3, s.inFlight(), "in flight: " + s);
        assertEquals(3, s.counts().delivered());
        assertEquals(1, s.counts().duplicates(), "the keyed retry: " + s.counts());
        Blocking.join(store.settle(q, Settlement.ACK, List.of(held.get(0).lease()), Duration.ZERO));
        Blocking.join(store.settle(q, Settlement.NACK, List.of(held.get(1).lease()), Duration.ZERO));
        s = (QueueStats) store.stats(q);
        assertEquals(1, s.inFlight(), "one lease left: " + s);
        assertEquals(1, s.counts().acked());
        assertEquals(1, s.counts().nacked());
        assertTrue(takeWithin(q) instanceof dev.spool.storage.PullResult.Message, "a message is taken");
        assertEquals(1, ((QueueStats) store.stats(q)).counts().taken());
    }

    /** Issue 21: the stats of many queues share one reading of the brokers' log sizes, not one per queue. */
    @Test
    void statsOfManyQueuesShouldAskTheBrokersForLogSizesOnce() {
        List<String> qs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            qs.add(q("sizes" + i));
            store.create(qs.get(i), QueueOptions.ofMaxLength(100));
            Blocking.push(store, qs.get(i), "x".repeat(1000).getBytes(StandardCharsets.UTF_8));
        }
        KafkaQueueStore k = (KafkaQueueStore) store;
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (((QueueStats) store.stats(qs.get(0))).bytesOnDisk() == 0) {
            assertTrue(System.nanoTime() < deadline, "the queue's log size is reported");
            Thread.onSpinWait();
        }
        long before = k.cluster.logSizeRequests.get();
        for (String q : qs) {
            store.stats(q);
        }
        assertTrue(k.cluster.logSizeRequests.get() - before <= 1, "stats of 4 queues asked for log sizes "
                + (k.cluster.logSizeRequests.get() - before) + " times");
    }

    /**
     * Issue 21, defect 6: replication is as configured, never lowered to the brokers alive. A node that asks for more
     * replicas than the cluster has alive refuses to create a queue (it used to take one replica and answer
     * "replicated"), and the stats report the replication Kafka has.
     */
    @Test
    void aQueueShouldNotBeCreatedWithFewerReplicasThanConfiguredAndStatsShouldSayWhatKafkaHas() throws Exception {
        String q = q("replicas");
        try (KafkaQueueStore two = KafkaQueueStore.open(KafkaSettings.of(KafkaCluster.shared().bootstrap(),
                "test-node-two").withLockDuration(Duration.ofSeconds(6)).withReplication(2, 1), MARK)) {
            dev.spool.storage.StoreException e = assertThrows(dev.spool.storage.StoreException.class,
                    () -> two.create(q, QueueOptions.ofMaxLength(10)));
            assertEquals(dev.spool.storage.StoreException.Code.UNAVAILABLE, e.code());
            assertTrue(e.getMessage().contains("kafka.replication_factor") && e.getMessage().contains("1 Kafka broker"),
                    e.getMessage());
            assertFalse(two.list().contains(q), "nothing was created");
        }
        store.create(q, QueueOptions.ofMaxLength(10));
        QueueStats.Replication r = ((QueueStats) store.stats(q)).replication();
        assertEquals(new QueueStats.Replication(1, 1, 1), r);
    }

    /**
     * Issue 21, defect 5: the records a queue's share group is past are deleted from its topic (the disk used to
     * grow with every message ever pushed); what is not consumed stays.
     */
    @Test
    void recordsTheShareGroupIsPastShouldBeDeletedAndTheRestKept() throws Exception {
        String q = q("trim");
        store.create(q, QueueOptions.ofMaxLength(1000));
        for (int i = 0; i < 30; i++) {
            Blocking.push(store, q, ("m" + i).getBytes(StandardCharsets.UTF_8));
        }
        int taken = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (taken < 30) {
            assertTrue(System.nanoTime() < deadline, "took the 30 messages, got " + taken);
            if (Blocking.join(store.take(q, 100, Duration.ofMillis(500))) instanceof dev.spool.storage.TakeResult.Taken t) {
                taken += t.messages().size();
            }
        }
        Blocking.push(store, q, "kept".getBytes(StandardCharsets.UTF_8));
        // Kafka moves the share group's start offset past acknowledged records when the group fetches again: here a
        // lease of the next message, given back at once (a queue in use fetches all the time).
        List<Leased> next = leaseWithin(q, 1, Duration.ofSeconds(5));
        assertEquals(1, next.size(), "the message after the taken ones is leased");
        Blocking.join(store.settle(q, Settlement.NACK, List.of(next.get(0).lease()), Duration.ZERO));
        KafkaQueueStore k = (KafkaQueueStore) store;
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(
                k.catalogEntry(q).topic(), 0);
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                java.util.Map.<String, Object>of("bootstrap.servers", KafkaCluster.shared().bootstrap()))) {
            deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            long logStart;
            while ((logStart = admin.listOffsets(java.util.Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.earliest()))
                    .partitionResult(tp).get().offset()) < 30) {
                assertTrue(System.nanoTime() < deadline, "the consumed records were deleted: log start " + logStart);
                k.sweeper.trimConsumed(); // what the node's housekeeping does every 10 s
                Thread.sleep(200); // the share group's start offset moves when Kafka has persisted the acks
            }
            assertEquals(30, logStart, "nothing unconsumed deleted");
        }
        PullResult after = takeWithin(q);
        assertEquals("kept", new String(((PullResult.Message) after).payload(), StandardCharsets.UTF_8));
    }

    /**
     * Issue 21, defect 8: a batch failing part-way keeps the keys of the messages it stored, so a retry does not
     * store them twice (the keys used to be written only when every send had succeeded). The middle message is over
     * the producer's request size, so Kafka refuses it alone.
     */
    @Test
    void aBatchFailingPartWayShouldKeepTheKeysOfWhatItStored() {
        String q = q("partway");
        store.create(q, QueueOptions.ofMaxLength(100));
        List<byte[]> batch = List.of("a".getBytes(StandardCharsets.UTF_8), new byte[2 << 20],
                "c".getBytes(StandardCharsets.UTF_8));
        assertThrows(dev.spool.storage.StoreException.class,
                () -> Blocking.pushBatch(store, q, batch, List.of("pw-a", "pw-b", "pw-c")));
        dev.spool.storage.PushResult retry = Blocking.pushBatch(store, q,
                List.of("a".getBytes(StandardCharsets.UTF_8), "c".getBytes(StandardCharsets.UTF_8)),
                List.of("pw-a", "pw-c"));
        assertEquals(2, ((dev.spool.storage.PushResult.Stored) retry).duplicates(), "both were stored before: " + retry);
        List<String> got = new ArrayList<>();
        PullResult m;
        while ((m = takeWithin(q)) instanceof PullResult.Message msg) {
            got.add(new String(msg.payload(), StandardCharsets.UTF_8));
        }
        assertEquals(List.of("a", "c"), got, "each stored once");
    }

    /** Issue 21, defect 8: the keys topic rolls a segment per idempotency window, so retention trims it. */
    @Test
    void theKeysTopicShouldRollASegmentPerWindow() throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                java.util.Map.<String, Object>of("bootstrap.servers", KafkaCluster.shared().bootstrap()))) {
            var r = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, "spool.__idempotency");
            var c = admin.describeConfigs(List.of(r)).all().get().get(r);
            String window = Long.toString(settings().idempotencyWindow().toMillis());
            assertEquals(window, c.get("segment.ms").value());
            assertEquals(window, c.get("retention.ms").value());
        }
    }
}
