package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.MutableClock;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.SubscriptionSpec;
import dev.spool.storage.SubscriptionStart;
import dev.spool.storage.SubscriptionStats;
import dev.spool.storage.TakeResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.config;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code retention.max_age} and {@code retention.max_bytes}: a named subscription left behind is moved past what the
 * bounds let go and counts what it skipped, rather than holding the disk; the queue's own consumers never lose a
 * message to them.
 */
class RetentionBoundsTest {
    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final Path journal() {
        return dir.resolve("queues/q/journal");
    }

    private StoreConfig config(StoreConfig.Retention r) {
        return dev.spool.storage.StoreTestSupport.config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock)
                .withRetention(r);
    }

    /** Ten messages, one a second, each in a journal file of its own; a subscription "slow" made before them. */
    private void fill(JournalQueueStore s) {
        s.create("q", QueueOptions.ofMaxLength(100));
        s.createSubscription("q", "slow", new SubscriptionSpec(new SubscriptionStart.Latest(), null, null, false));
        for (int i = 1; i <= 10; i++) {
            Blocking.push(s, "q", bytes("m" + i));
            clock.advance(Duration.ofSeconds(1));
        }
    }

    private static List<String> take(JournalQueueStore s, String sub, int max) {
        TakeResult.Taken t = (TakeResult.Taken) Blocking.join(s.take("q", sub, max, Duration.ZERO));
        return t.messages().stream().map(m -> new String(m.payload())).toList();
    }

    private static List<String> names(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            out.add("m" + i);
        }
        return out;
    }

    private long cycleFiles() throws IOException {
        try (Stream<Path> files = Files.list(journal())) {
            return files.filter(p -> p.toString().endsWith(".cq4")).count();
        }
    }

    @Test
    void aSubscriptionBehindMaxAgeShouldMoveOnCountItsSkipsAndKeepItsAcks() throws IOException {
        StoreConfig c = config(new StoreConfig.Retention(Duration.ofSeconds(3), 0));
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            fill(s);
            assertEquals(names(1, 10), take(s, null, 10), "the queue's own consumers read everything");
            List<Leased> l = ((LeaseResult.Granted) Blocking.join(s.lease("q", "slow", 9, Duration.ofMinutes(5),
                    Duration.ZERO))).messages();
            // Acknowledged out of order: m2 (below the bound) and m9 (above it).
            Blocking.join(s.settle("q", "slow", Settlement.ACK, List.of(l.get(1).lease(), l.get(8).lease()),
                    Duration.ZERO));
            assertEquals(10, cycleFiles(), "slow holds every file");
            // Now 10 s in: files of m1..m7 (seconds 0..6) are wholly older than 3 s ago (second 7 began by then).
            s.enforceRetention();
            SubscriptionStats st = (SubscriptionStats) s.subscription("q", "slow");
            assertEquals(6, st.skipped(), "m1, m3..m7: not acknowledged, never to be received");
            assertEquals(4, cycleFiles(), "the files before m7's are deleted (m7's holds slow's new position)");
            assertEquals(List.of("m8", "m10"), take(s, "slow", 10), "it moves on to m8; its ack of m9 holds");
        }
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(6, ((SubscriptionStats) s.subscription("q", "slow")).skipped(), "kept across a restart");
        }
    }

    @Test
    void theQueuesOwnConsumersShouldNeverLoseAMessageToTheBounds() throws IOException {
        try (JournalQueueStore s = JournalQueueStore.open(config(new StoreConfig.Retention(Duration.ofSeconds(3), 0)))) {
            fill(s);
            s.enforceRetention();
            assertEquals(7, ((SubscriptionStats) s.subscription("q", "slow")).skipped());
            assertEquals(names(8, 10), take(s, "slow", 10));
            assertEquals(10, cycleFiles(), "the queue's own reader still needs every file");
            assertEquals(names(1, 10), take(s, null, 10), "and receives every message");
        }
    }

    @Test
    void maxBytesShouldKeepOnlyWhatFitsAndTheNewestFile() throws IOException {
        try (JournalQueueStore s = JournalQueueStore.open(config(new StoreConfig.Retention(Duration.ZERO, 1)))) {
            fill(s);
            assertEquals(names(1, 10), take(s, null, 10));
            s.enforceRetention();
            assertEquals(9, ((SubscriptionStats) s.subscription("q", "slow")).skipped());
            assertEquals(List.of("m10"), take(s, "slow", 10), "only the newest file is kept");
            assertEquals(1, cycleFiles());
        }
    }

    @Test
    void theStoreShouldApplyTheBoundsByItself() {
        try (JournalQueueStore s = JournalQueueStore.open(config(new StoreConfig.Retention(Duration.ZERO, 1)))) {
            fill(s);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (((SubscriptionStats) s.subscription("q", "slow")).skipped() == 0) {
                org.junit.jupiter.api.Assertions.assertTrue(System.nanoTime() < deadline,
                        "the store's thread never applied retention.max_bytes");
                Thread.onSpinWait();
            }
            assertEquals(9, ((SubscriptionStats) s.subscription("q", "slow")).skipped());
        }
    }

    @Test
    void aQueuesOwnBoundsShouldOverrideTheStoresAndSurviveARestart() throws IOException {
        StoreConfig c = config(StoreConfig.Retention.NONE);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(100).withRetention(0, 1));
            s.createSubscription("q", "slow", new SubscriptionSpec(new SubscriptionStart.Latest(), null, null, false));
            for (int i = 1; i <= 5; i++) {
                Blocking.push(s, "q", bytes("m" + i));
                clock.advance(Duration.ofSeconds(1));
            }
        }
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(1, ((QueueOptions) s.options("q")).retentionMaxBytes(), "kept in queue.json");
            s.enforceRetention();
            assertEquals(4, ((SubscriptionStats) s.subscription("q", "slow")).skipped());
            assertEquals(List.of("m5"), take(s, "slow", 10));
        }
    }

    @Test
    void withoutBoundsNothingShouldMove() throws IOException {
        try (JournalQueueStore s = JournalQueueStore.open(config(StoreConfig.Retention.NONE))) {
            fill(s);
            s.enforceRetention();
            assertEquals(0, ((SubscriptionStats) s.subscription("q", "slow")).skipped());
            assertEquals(names(1, 10), take(s, "slow", 10));
        }
    }
}
