package dev.spool.storage.kafka;

import dev.spool.storage.Blocking;
import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.SettleResult;
import dev.spool.storage.Settlement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, defect 2: leases were capped a second below the broker's record lock (29 s by default, so SQS's
 * common 30 s was refused) and could not be renewed. Now a node RENEWs the lock (KIP-1222) while a lease, a
 * renewal or a delayed nack needs it. Two nodes on a real Kafka 4.4 with a 4 s lock: while node a holds a lease for
 * several locks, node b, polling the same queue all along, never gets the message; a's ack then lands.
 */
@Timeout(180)
class KafkaLeaseRenewalTest {
    private static final DeadLetterCodec CODEC = (payload, from, id, deliveries) -> payload;
    private static final Duration LOCK = Duration.ofSeconds(4);
    private static KafkaQueueStore a;
    private static KafkaQueueStore b;

    @BeforeAll
    static void open() throws Exception {
        String bootstrap = KafkaCluster.shared().bootstrap();
        a = KafkaQueueStore.open(KafkaSettings.of(bootstrap, "renew-a-" + System.nanoTime()).withLockDuration(LOCK)
                .withReplication(1, 1), CODEC);
        b = KafkaQueueStore.open(KafkaSettings.of(bootstrap, "renew-b-" + System.nanoTime()).withLockDuration(LOCK)
                .withReplication(1, 1), CODEC);
    }

    @AfterAll
    static void close() {
        b.close();
        a.close();
    }

    @Test
    void aLeaseLongerThanTheLockShouldStayWithItsHolderAndBeAckedAtItsEnd() throws Exception {
        String q = queue("long");
        Leased held = leaseOne(a, q, Duration.ofSeconds(20));
        // Three locks' time, with node b asking for the queue's messages throughout (each ask waits up to 2 s, and
        // b's first up to its consumer's joining, so the lease is long enough to be acked after the last).
        long end = System.nanoTime() + Duration.ofSeconds(12).toNanos();
        while (System.nanoTime() < end) {
            List<Leased> other = lease(b, q, 10, Duration.ofSeconds(5), Duration.ofSeconds(2));
            assertTrue(other.isEmpty(), "a live lease's message went to another node: " + other);
        }
        SettleResult.Settled acked = Blocking.ack(a, q, List.of(held.lease()));
        assertEquals(1, acked.accepted(), "the ack at the lease's end lands: " + acked);
        assertTrue(lease(b, q, 10, Duration.ofSeconds(5), Duration.ofSeconds(6)).isEmpty(), "acked for good");
    }

    @Test
    void aRenewedLeaseShouldOutliveTheLockAndItsOriginalVisibility() throws Exception {
        String q = queue("renewed");
        Leased held = leaseOne(a, q, Duration.ofSeconds(3));
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        int renewals = 0;
        while (System.nanoTime() < end) {
            // Each renewal gives 5 s: more than b's ask below takes (its first waits for b's consumer to join).
            SettleResult.Settled r = Blocking.renew(a, q, List.of(held.lease()), Duration.ofSeconds(5));
            assertEquals(1, r.accepted(), "renewal " + renewals + ": " + r);
            renewals++;
            // The worker's next heartbeat comes while b looks for work.
            List<Leased> other = lease(b, q, 10, Duration.ofSeconds(5), Duration.ofSeconds(1));
            assertTrue(other.isEmpty(), "a renewed lease's message went to another node: " + other);
        }
        assertEquals(1, Blocking.ack(a, q, List.of(held.lease())).accepted(), "acked after " + renewals + " renewals");
    }

    @Test
    void aNackWithADelayShouldHoldTheMessageBackForTheDelay() throws Exception {
        String q = queue("delayed");
        Leased held = leaseOne(a, q, Duration.ofSeconds(3));
        long nackedAt = System.nanoTime();
        assertEquals(1, Blocking.nack(a, q, List.of(held.lease()), Duration.ofSeconds(6)).accepted());
        Leased again = null;
        while (again == null) {
            List<Leased> got = lease(b, q, 1, Duration.ofSeconds(5), Duration.ofSeconds(10));
            long after = (System.nanoTime() - nackedAt) / 1_000_000;
            if (!got.isEmpty()) {
                again = got.get(0);
                assertTrue(after >= 6000, "delivered again " + after + " ms after a nack delayed 6 s");
            }
            assertTrue(after < 30_000, "the nacked message came back");
        }
        assertEquals(held.id(), again.id());
        assertEquals(2, again.delivery(), "its second delivery");
        Blocking.ack(b, q, List.of(again.lease()));
    }

    private static String queue(String what) {
        String q = "renew-" + what + "-" + System.nanoTime();
        a.create(q, QueueOptions.ofMaxLength(100));
        Blocking.push(a, q, ("payload-" + what).getBytes(StandardCharsets.UTF_8));
        return q;
    }

    private static Leased leaseOne(KafkaQueueStore s, String q, Duration visibility) {
        List<Leased> got = lease(s, q, 1, visibility, Duration.ofSeconds(20));
        assertEquals(1, got.size(), "leased");
        assertEquals(1, got.get(0).delivery(), "first delivery");
        return got.get(0);
    }

    private static List<Leased> lease(KafkaQueueStore s, String q, int max, Duration visibility, Duration wait) {
        return ((LeaseResult.Granted) Blocking.join(s.lease(q, max, visibility, wait))).messages();
    }
}
