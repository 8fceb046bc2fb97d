package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.Message;
import dev.spool.storage.MutableClock;
import dev.spool.storage.NoSuchQueue;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.SettleResult;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
import dev.spool.storage.TakeResult;
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
            assertInstanceOf(PushResult.Stored.class, Blocking.push(s, q, bytes(m)));
        }
    }

    @Test
    void leasedMessagesShouldBeInvisibleUntilAcknowledged() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b", "c");
            List<Leased> l = leased(Blocking.lease(s, "q", 2, VIS));
            assertEquals(List.of(1L, 2L), l.stream().map(Leased::id).toList());
            assertEquals(1, l.get(0).delivery());
            assertEquals("a", new String(l.get(0).payload(), StandardCharsets.UTF_8));
            assertEquals("c", text(Blocking.pull(s, "q")), "a destructive pull takes the oldest message not leased");
            assertTrue(leased(Blocking.lease(s, "q", 5, VIS)).isEmpty());
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
            assertEquals(2, Blocking.stats(s, "q").orElseThrow().depth(), "leased messages are not acknowledged yet");
            SettleResult.Settled r = Blocking.ack(s, "q", List.of(l.get(0).lease(), l.get(1).lease()));
            assertEquals(2, r.accepted());
            assertEquals(0, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }

    @Test
    void expiredLeaseShouldBeRedeliveredAheadOfNewerMessagesWithDeliveryPlusOne() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b");
            leased(Blocking.lease(s, "q", 1, VIS));
            clock.advance(VIS);
            List<Leased> again = leased(Blocking.lease(s, "q", 5, VIS));
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
            String first = leased(Blocking.lease(s, "q", 1, VIS)).get(0).lease();
            clock.advance(VIS.plusSeconds(1));
            SettleResult.Settled late = Blocking.ack(s, "q", List.of(first));
            assertEquals(0, late.accepted());
            assertEquals(List.of(new SettleResult.Rejected(first, SettleResult.Reason.EXPIRED)), late.rejected());
            String second = leased(Blocking.lease(s, "q", 1, VIS)).get(0).lease();
            assertEquals(SettleResult.Reason.EXPIRED, Blocking.ack(s, "q", List.of(first)).rejected().get(0).reason());
            assertEquals(1, Blocking.stats(s, "q").orElseThrow().depth(), "the other worker's delivery is intact");
            assertEquals(1, Blocking.ack(s, "q", List.of(second)).accepted());
            assertEquals(SettleResult.Reason.UNKNOWN, Blocking.ack(s, "q", List.of(second)).rejected().get(0).reason());
            assertEquals(SettleResult.Reason.UNKNOWN, Blocking.ack(s, "q", List.of("garbage")).rejected().get(0).reason());
        }
    }

    @Test
    void renewShouldExtendALeaseAndNackShouldReleaseIt() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b");
            List<Leased> l = leased(Blocking.lease(s, "q", 2, VIS));
            clock.advance(Duration.ofSeconds(8));
            assertEquals(1, Blocking.renew(s, "q", List.of(l.get(0).lease()), VIS).accepted());
            clock.advance(Duration.ofSeconds(5));
            // a's lease was renewed to t+18; b's expired at t+10.
            List<Leased> b = leased(Blocking.lease(s, "q", 5, VIS));
            assertEquals(List.of(2L), b.stream().map(Leased::id).toList());
            assertEquals(2, Blocking.ack(s, "q", List.of(l.get(0).lease(), b.get(0).lease())).accepted());
            push(s, "q", "c");
            Leased c = leased(Blocking.lease(s, "q", 1, VIS)).get(0);
            assertEquals(3, c.id());
            assertEquals(1, Blocking.nack(s, "q", List.of(c.lease()), Duration.ofSeconds(30)).accepted());
            assertTrue(leased(Blocking.lease(s, "q", 5, VIS)).isEmpty(), "released with a delay: not yet");
            clock.advance(Duration.ofSeconds(30));
            Leased back = leased(Blocking.lease(s, "q", 5, VIS)).get(0);
            assertEquals(3, back.id());
            assertEquals(2, back.delivery());
            assertEquals(1, Blocking.nack(s, "q", List.of(back.lease()), Duration.ZERO).accepted());
            assertEquals("c", text(Blocking.pull(s, "q")));
        }
    }

    @Test
    void maxLengthShouldCountEveryMessageNotYetAcknowledged() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(2));
            push(s, "q", "a", "b");
            List<Leased> l = leased(Blocking.lease(s, "q", 2, VIS));
            assertInstanceOf(PushResult.Full.class, Blocking.push(s, "q", bytes("c")));
            Blocking.ack(s, "q", List.of(l.get(1).lease()));
            assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "q", bytes("c")));
            assertInstanceOf(PushResult.Full.class, Blocking.push(s, "q", bytes("d")));
        }
    }

    @Test
    void messageLeasedMaxDeliveriesTimesShouldMoveToTheDeadLetterQueueAndRedriveBack() {
        try (JournalQueueStore s = open()) {
            s.create("q", new QueueOptions(10, null, 2, null));
            push(s, "q", "poison", "fine");
            for (int i = 0; i < 2; i++) {
                Leased l = leased(Blocking.lease(s, "q", 1, VIS)).get(0);
                assertEquals(1, l.id());
                clock.advance(VIS);
            }
            List<Leased> next = leased(Blocking.lease(s, "q", 5, VIS));
            assertEquals(List.of(2L), next.stream().map(Leased::id).toList());
            assertEquals(1, Blocking.ack(s, "q", List.of(next.get(0).lease())).accepted());
            s.awaitStoreThread();
            assertTrue(s.list().contains("q.dlq"));
            assertEquals("dead:q:1:2:poison", text(Blocking.pull(s, "q.dlq")).replaceAll("\\s", ""));
            assertEquals(0, Blocking.stats(s, "q.dlq").orElseThrow().depth());
            // Dead-letter again, then redrive.
            push(s, "q", "again");
            for (int i = 0; i < 2; i++) {
                leased(Blocking.lease(s, "q", 1, VIS));
                clock.advance(VIS);
            }
            assertTrue(leased(Blocking.lease(s, "q", 5, VIS)).isEmpty(), "the third delivery went to the dead-letter queue");
            s.awaitStoreThread();
            assertEquals(1, Blocking.stats(s, "q.dlq").orElseThrow().depth());
            assertEquals(1, Blocking.redrive(s, "q"));
            assertEquals(0, Blocking.stats(s, "q.dlq").orElseThrow().depth());
            String redriven = text(Blocking.pull(s, "q"));
            assertTrue(redriven.startsWith("dead:q:3:2:again"), redriven);
        }
    }

    /** Defect 10: a single-message destructive pull dead-letters like the batch paths. */
    @Test
    void aSinglePullShouldMoveAnExpiredMessageWithNoDeliveriesLeftToTheDeadLetterQueue() {
        try (JournalQueueStore s = open()) {
            s.create("q", new QueueOptions(10, null, 1, null));
            push(s, "q", "poison");
            leased(Blocking.lease(s, "q", 1, VIS));
            clock.advance(VIS);
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"), "its one delivery was used");
            s.awaitStoreThread();
            assertEquals(1, Blocking.stats(s, "q.dlq").orElseThrow().depth());
            assertEquals(0, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }

    @Test
    void acknowledgementsAndDeliveryCountsShouldSurviveReopenAndLeasesShouldNot() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b", "c", "d");
            List<Leased> l = leased(Blocking.lease(s, "q", 3, VIS));
            Blocking.ack(s, "q", List.of(l.get(1).lease()));
            s.checkpoint();
            Blocking.ack(s, "q", List.of(l.get(2).lease()));
        }
        try (JournalQueueStore s = open()) {
            assertEquals(2, Blocking.stats(s, "q").orElseThrow().depth());
            List<Leased> again = leased(Blocking.lease(s, "q", 5, VIS));
            assertEquals(List.of(1L, 4L), again.stream().map(Leased::id).toList());
            assertEquals(2, again.get(0).delivery(), "a was leased once before the restart");
            assertEquals(1, again.get(1).delivery());
            Blocking.ack(s, "q", List.of(again.get(0).lease(), again.get(1).lease()));
            assertEquals(0, Blocking.stats(s, "q").orElseThrow().depth());
            push(s, "q", "e");
            assertEquals("e", text(Blocking.pull(s, "q")));
        }
        try (JournalQueueStore s = open()) {
            assertEquals(0, Blocking.stats(s, "q").orElseThrow().depth());
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
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
            List<Leased> l = leased(Blocking.lease(s, "q", 5, Duration.ofHours(1)));
            for (int i = 4; i >= 3; i--) {
                Blocking.ack(s, "q", List.of(l.get(i).lease()));
                secondly.advance(Duration.ofSeconds(1));
            }
            List<Path> before = cq4Files(state);
            s.checkpoint();
            assertTrue(cq4Files(state).containsAll(before), "the first snapshot keeps the log's beginning (a fallback)");
            secondly.advance(Duration.ofSeconds(1));
            for (int i = 2; i >= 1; i--) {
                Blocking.ack(s, "q", List.of(l.get(i).lease()));
                secondly.advance(Duration.ofSeconds(1));
            }
            s.checkpoint();
            List<Path> after = cq4Files(state);
            assertTrue(before.stream().noneMatch(after::contains), "state files before the previous snapshot are gone: "
                    + before + " -> " + after);
        }
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(1, Blocking.stats(s, "q").orElseThrow().depth(), "only m0 is unacknowledged");
            Leased m0 = leased(Blocking.lease(s, "q", 5, VIS)).get(0);
            assertEquals(1, m0.id());
            assertEquals(2, m0.delivery());
        }
    }

    private static List<Path> cq4Files(Path dir) throws java.io.IOException {
        try (var files = java.nio.file.Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
    }

    @Test
    void batchPullShouldTakeUpToMaxInFifoOrder() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            push(s, "q", "a", "b", "c");
            TakeResult.Taken m = (TakeResult.Taken) Blocking.pullBatch(s, "q", 2);
            assertEquals(List.of(1L, 2L), m.messages().stream().map(Message::id).toList());
            assertEquals(1, ((TakeResult.Taken) Blocking.pullBatch(s, "q", 5)).messages().size());
            assertTrue(((TakeResult.Taken) Blocking.pullBatch(s, "q", 5)).messages().isEmpty());
            assertInstanceOf(NoSuchQueue.class, Blocking.pullBatch(s, "nope", 1));
        }
    }
}
