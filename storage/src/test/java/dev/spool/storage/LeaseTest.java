package dev.spool.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LeaseTest {
    private static final Duration VIS = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    final MutableClock clock = new MutableClock(Instant.parse("2026-11-27T12:00:00Z"));

    private JournalQueueStore open() {
        return JournalQueueStore.open(StoreTestSupport.config(dir).withRollCycle(JournalRollCycle.HOURLY, clock),
                (payload, from, id, deliveries) -> ("dead:" + from + ":" + id + ":" + deliveries + ":"
                        + new String(payload, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
    }

    private static List<Leased> leased(LeaseResult r) {
        return ((LeaseResult.Granted) r).messages();
    }

    private static void push(JournalQueueStore s, String q, String... messages) {
        for (String m : messages) {
            assertInstanceOf(PushResult.Stored.class, s.push(q, bytes(m)));
        }
    }

    @Test
    void leasedMessagesShouldBeInvisibleUntilAcknowledged() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b", "c");
            List<Leased> l = leased(s.lease("q", 2, VIS));
            assertEquals(List.of(1L, 2L), l.stream().map(Leased::id).toList());
            assertEquals(1, l.get(0).delivery());
            assertEquals("a", new String(l.get(0).payload(), StandardCharsets.UTF_8));
            assertEquals("c", text(s.pull("q")), "a destructive pull takes the oldest message not leased");
            assertTrue(leased(s.lease("q", 5, VIS)).isEmpty());
            assertInstanceOf(PullResult.Empty.class, s.pull("q"));
            assertEquals(2, s.stats("q").orElseThrow().depth(), "leased messages are not acknowledged yet");
            SettleResult r = s.ack("q", List.of(l.get(0).lease(), l.get(1).lease()));
            assertEquals(2, r.accepted());
            assertEquals(0, s.stats("q").orElseThrow().depth());
        }
    }

    @Test
    void expiredLeaseShouldBeRedeliveredAheadOfNewerMessagesWithDeliveryPlusOne() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b");
            leased(s.lease("q", 1, VIS));
            clock.advance(VIS);
            List<Leased> again = leased(s.lease("q", 5, VIS));
            assertEquals(List.of(1L, 2L), again.stream().map(Leased::id).toList());
            assertEquals(2, again.get(0).delivery());
            assertEquals(1, again.get(1).delivery());
        }
    }

    @Test
    void ackOfAnExpiredLeaseShouldBeRejectedWithoutRemovingTheNewDelivery() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a");
            String first = leased(s.lease("q", 1, VIS)).get(0).lease();
            clock.advance(VIS.plusSeconds(1));
            SettleResult late = s.ack("q", List.of(first));
            assertEquals(0, late.accepted());
            assertEquals(List.of(new SettleResult.Rejected(first, SettleResult.Reason.EXPIRED)), late.rejected());
            String second = leased(s.lease("q", 1, VIS)).get(0).lease();
            assertEquals(SettleResult.Reason.EXPIRED, s.ack("q", List.of(first)).rejected().get(0).reason());
            assertEquals(1, s.stats("q").orElseThrow().depth(), "the other worker's delivery is intact");
            assertEquals(1, s.ack("q", List.of(second)).accepted());
            assertEquals(SettleResult.Reason.UNKNOWN, s.ack("q", List.of(second)).rejected().get(0).reason());
            assertEquals(SettleResult.Reason.UNKNOWN, s.ack("q", List.of("garbage")).rejected().get(0).reason());
        }
    }

    @Test
    void renewShouldExtendALeaseAndNackShouldReleaseIt() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b");
            List<Leased> l = leased(s.lease("q", 2, VIS));
            clock.advance(Duration.ofSeconds(8));
            assertEquals(1, s.renew("q", List.of(l.get(0).lease()), VIS).accepted());
            clock.advance(Duration.ofSeconds(5));
            // a's lease was renewed to t+18; b's expired at t+10.
            List<Leased> b = leased(s.lease("q", 5, VIS));
            assertEquals(List.of(2L), b.stream().map(Leased::id).toList());
            assertEquals(2, s.ack("q", List.of(l.get(0).lease(), b.get(0).lease())).accepted());
            push(s, "q", "c");
            Leased c = leased(s.lease("q", 1, VIS)).get(0);
            assertEquals(3, c.id());
            assertEquals(1, s.nack("q", List.of(c.lease()), Duration.ofSeconds(30)).accepted());
            assertTrue(leased(s.lease("q", 5, VIS)).isEmpty(), "released with a delay: not yet");
            clock.advance(Duration.ofSeconds(30));
            Leased back = leased(s.lease("q", 5, VIS)).get(0);
            assertEquals(3, back.id());
            assertEquals(2, back.delivery());
            assertEquals(1, s.nack("q", List.of(back.lease()), Duration.ZERO).accepted());
            assertEquals("c", text(s.pull("q")));
        }
    }

    @Test
    void maxLengthShouldCountEveryMessageNotYetAcknowledged() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(2));
            push(s, "q", "a", "b");
            List<Leased> l = leased(s.lease("q", 2, VIS));
            assertInstanceOf(PushResult.Full.class, s.push("q", bytes("c")));
            s.ack("q", List.of(l.get(1).lease()));
            assertInstanceOf(PushResult.Stored.class, s.push("q", bytes("c")));
            assertInstanceOf(PushResult.Full.class, s.push("q", bytes("d")));
        }
    }

    @Test
    void messageLeasedMaxDeliveriesTimesShouldMoveToTheDeadLetterQueueAndRedriveBack() {
        try (JournalQueueStore s = open()) {
            s.create("q", new QueueOptions(10, null, 2, null));
            push(s, "q", "poison", "fine");
            for (int i = 0; i < 2; i++) {
                Leased l = leased(s.lease("q", 1, VIS)).get(0);
                assertEquals(1, l.id());
                clock.advance(VIS);
            }
            List<Leased> next = leased(s.lease("q", 5, VIS));
            assertEquals(List.of(2L), next.stream().map(Leased::id).toList());
            assertEquals(1, s.ack("q", List.of(next.get(0).lease())).accepted());
            assertTrue(s.list().contains("q.dlq"));
            assertEquals("dead:q:1:2:poison", text(s.pull("q.dlq")).replaceAll("\\s", ""));
            assertEquals(0, s.stats("q.dlq").orElseThrow().depth());
            // Dead-letter again, then redrive.
            push(s, "q", "again");
            for (int i = 0; i < 2; i++) {
                leased(s.lease("q", 1, VIS));
                clock.advance(VIS);
            }
            assertTrue(leased(s.lease("q", 5, VIS)).isEmpty(), "the third delivery went to the dead-letter queue");
            assertEquals(1, s.stats("q.dlq").orElseThrow().depth());
            assertEquals(1, s.redrive("q"));
            assertEquals(0, s.stats("q.dlq").orElseThrow().depth());
            String redriven = text(s.pull("q"));
            assertTrue(redriven.startsWith("dead:q:3:2:again"), redriven);
        }
    }

    @Test
    void acknowledgementsAndDeliveryCountsShouldSurviveReopenAndLeasesShouldNot() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b", "c", "d");
            List<Leased> l = leased(s.lease("q", 3, VIS));
            s.ack("q", List.of(l.get(1).lease()));
            s.checkpoint();
            s.ack("q", List.of(l.get(2).lease()));
        }
        try (JournalQueueStore s = open()) {
            assertEquals(2, s.stats("q").orElseThrow().depth());
            List<Leased> again = leased(s.lease("q", 5, VIS));
            assertEquals(List.of(1L, 4L), again.stream().map(Leased::id).toList());
            assertEquals(2, again.get(0).delivery(), "a was leased once before the restart");
            assertEquals(1, again.get(1).delivery());
            s.ack("q", List.of(again.get(0).lease(), again.get(1).lease()));
            assertEquals(0, s.stats("q").orElseThrow().depth());
            push(s, "q", "e");
            assertEquals("e", text(s.pull("q")));
        }
        try (JournalQueueStore s = open()) {
            assertEquals(0, s.stats("q").orElseThrow().depth());
            assertInstanceOf(PullResult.Empty.class, s.pull("q"));
        }
    }

    @Test
    void stateLogFilesBehindASnapshotShouldBeDeletedAndStateKept() throws Exception {
        MutableClock secondly = new MutableClock(Instant.parse("2026-11-27T12:00:00Z"));
        StoreConfig c = StoreTestSupport.config(dir).withRollCycle(JournalRollCycle.SECONDLY, secondly);
        Path state = dir.resolve("queues/q/state");
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            for (int i = 0; i < 5; i++) {
                push(s, "q", "m" + i);
                secondly.advance(Duration.ofSeconds(1));
            }
            List<Leased> l = leased(s.lease("q", 5, Duration.ofHours(1)));
            for (int i = 4; i >= 1; i--) {
                s.ack("q", List.of(l.get(i).lease()));
                secondly.advance(Duration.ofSeconds(1));
            }
            long before = countCq4(state);
            s.checkpoint();
            assertTrue(countCq4(state) < before, "state files before the snapshot are gone: " + before + " -> "
                    + countCq4(state));
        }
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(1, s.stats("q").orElseThrow().depth(), "only m0 is unacknowledged");
            Leased m0 = leased(s.lease("q", 5, VIS)).get(0);
            assertEquals(1, m0.id());
            assertEquals(2, m0.delivery());
        }
    }

    private static long countCq4(Path dir) throws java.io.IOException {
        try (var files = java.nio.file.Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".cq4")).count();
        }
    }

    @Test
    void batchPullShouldTakeUpToMaxInFifoOrder() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b", "c");
            BatchPullResult.Messages m = (BatchPullResult.Messages) s.pullBatch("q", 2);
            assertEquals(List.of(1L, 2L), m.messages().stream().map(PullResult.Message::id).toList());
            assertEquals(1, ((BatchPullResult.Messages) s.pullBatch("q", 5)).messages().size());
            assertTrue(((BatchPullResult.Messages) s.pullBatch("q", 5)).messages().isEmpty());
            assertInstanceOf(BatchPullResult.NoSuchQueue.class, s.pullBatch("nope", 1));
        }
    }
}
