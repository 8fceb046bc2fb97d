package dev.spool.storage.kafka;

import dev.spool.storage.Blocking;
import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.TakeResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, defect 3: a slow worker leasing one message at a time over a backlog. The pump used to fetch a whole
 * batch for its one-message request and release the rest unseen after the prefetch hold, and to time the records
 * of a poll from the previous poll's start (seconds ago for a slow worker), releasing them as too close to their
 * lock's end: each release counts a delivery, so the records behind the worker's reached their limit and the
 * dead-letter queue without any client seeing them. Every message must reach a client on its first delivery.
 */
@Timeout(240)
class SlowWorkerTest {
    private static final DeadLetterCodec CODEC = (payload, from, id, deliveries) -> payload;
    private static final int BACKLOG = 20;
    private static final int SLOW_LEASES = 6;

    @Test
    void aSlowOneAtATimeWorkerShouldLeaveNothingDeadLetteredUnseen() throws Exception {
        String bootstrap = KafkaCluster.shared().bootstrap();
        String q = "slow-" + System.nanoTime();
        try (KafkaQueueStore store = KafkaQueueStore.open(KafkaSettings.of(bootstrap, "slow-" + System.nanoTime())
                .withLockDuration(Duration.ofSeconds(5)).withReplication(1, 1), CODEC)) {
            store.create(q, new QueueOptions(1000, null, 3, null));
            List<byte[]> bodies = new ArrayList<>();
            for (int i = 0; i < BACKLOG; i++) {
                bodies.add(("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            Blocking.pushBatch(store, q, bodies);

            Map<String, Integer> seen = new LinkedHashMap<>(); // payload -> delivery at which a client saw it
            for (int i = 0; i < SLOW_LEASES; i++) {
                List<Leased> got = lease(store, q, 1, Duration.ofSeconds(3), Duration.ofSeconds(20));
                assertEquals(1, got.size(), "lease " + i + " of the slow worker got a message: " + seen);
                Leased m = got.get(0);
                seen.put(new String(m.payload(), StandardCharsets.UTF_8), m.delivery());
                // The worker's work: longer than the prefetch hold (2 s) and a good part of the 5 s lock.
                Thread.sleep(2500);
                assertEquals(1, Blocking.ack(store, q, List.of(m.lease())).accepted(), "the slow worker's ack of " + m);
            }
            // Then a fast worker takes the rest.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (seen.size() < BACKLOG && System.nanoTime() < deadline) {
                List<Leased> got = lease(store, q, 100, Duration.ofSeconds(4), Duration.ofSeconds(2));
                for (Leased m : got) {
                    seen.putIfAbsent(new String(m.payload(), StandardCharsets.UTF_8), m.delivery());
                }
                if (!got.isEmpty()) {
                    Blocking.ack(store, q, got.stream().map(Leased::lease).toList());
                }
            }
            List<String> firstSix = new ArrayList<>(seen.keySet()).subList(0, SLOW_LEASES);
            assertEquals(List.of("m0", "m1", "m2", "m3", "m4", "m5"), firstSix, "the slow worker got them in order");
            assertEquals(BACKLOG, seen.size(), "every message reached a client (none dead-lettered unseen): " + seen);
            assertTrue(seen.values().stream().allMatch(d -> d == 1),
                    "every message was seen on its first delivery, none released unseen before: " + seen);
            TakeResult dead = Blocking.pullBatch(store, q + ".dlq", 100);
            assertEquals(0, ((TakeResult.Taken) dead).messages().size(), "nothing was dead-lettered");
        }
    }

    @Test
    void workersArrivingOneByOneShouldEachGetAMessageWhileTheOthersHoldTheirs() throws Exception {
        // The pump used to keep at most four consumers per queue on a node, each blocked until everything it had
        // fetched was settled: a fifth worker holding nothing got [] with a backlog.
        String bootstrap = KafkaCluster.shared().bootstrap();
        String q = "workers-" + System.nanoTime();
        int workers = 7;
        try (KafkaQueueStore store = KafkaQueueStore.open(KafkaSettings.of(bootstrap, "workers-" + System.nanoTime())
                .withLockDuration(Duration.ofSeconds(30)).withReplication(1, 1), CODEC)) {
            store.create(q, QueueOptions.ofMaxLength(1000));
            List<byte[]> bodies = new ArrayList<>();
            for (int i = 0; i < 3 * workers; i++) {
                bodies.add(("w" + i).getBytes(StandardCharsets.UTF_8));
            }
            Blocking.pushBatch(store, q, bodies);
            List<Leased> held = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                List<Leased> got = lease(store, q, 1, Duration.ofSeconds(25), Duration.ofSeconds(15));
                assertEquals(1, got.size(), "worker " + (i + 1) + " got a message while " + held.size()
                        + " others hold theirs");
                held.add(got.get(0));
                Thread.sleep(2500); // the next worker comes later than the prefetch hold (2 s)
            }
            assertEquals(workers, held.stream().map(Leased::id).distinct().count(), "each got its own: " + held);
            assertEquals(workers, Blocking.ack(store, q, held.stream().map(Leased::lease).toList()).accepted());
        }
    }

    private static List<Leased> lease(KafkaQueueStore store, String q, int max, Duration visibility, Duration wait) {
        LeaseResult r = Blocking.join(store.lease(q, max, visibility, wait));
        return ((LeaseResult.Granted) r).messages();
    }
}
