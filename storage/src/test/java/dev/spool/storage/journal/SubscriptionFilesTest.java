package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.Message;
import dev.spool.storage.MutableClock;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.SettleResult;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Subscriptions on the journal: one journal, one reader per subscription, each with its own cursor and state log
 * under {@code queues/<q>/subs/<s>/}, recovered like the queue's own, and journal files released only once every
 * reader is past them.
 */
class SubscriptionFilesTest {
    @TempDir
    Path dir;
    @TempDir
    Path copy;

    private static SubscriptionSpec at(SubscriptionStart s) {
        return new SubscriptionSpec(s, null, null, false);
    }

    private static List<String> take(JournalQueueStore s, String q, String sub, int max) {
        TakeResult.Taken t = (TakeResult.Taken) Blocking.join(s.take(q, sub, max, Duration.ZERO));
        return t.messages().stream().map(m -> new String(m.payload())).toList();
    }

    private static List<Leased> lease(JournalQueueStore s, String q, String sub, int max) {
        return ((LeaseResult.Granted) Blocking.join(s.lease(q, sub, max, Duration.ofMinutes(5), Duration.ZERO)))
                .messages();
    }

    private static long cycleFiles(Path journal) throws IOException {
        try (Stream<Path> files = Files.list(journal)) {
            return files.filter(p -> p.toString().endsWith(".cq4")).count();
        }
    }

    private static List<String> names(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            out.add("m" + i);
        }
        return out;
    }

    @Test
    void positionsAcksAndPausesShouldSurviveARestart() {
        StoreConfig c = config(dir);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            s.createSubscription("q", "a", at(new SubscriptionStart.Latest()));
            s.createSubscription("q", "b", at(new SubscriptionStart.Latest()));
            s.createSubscription("q", "p", new SubscriptionSpec(new SubscriptionStart.Latest(), 7, "elsewhere", true));
            for (int i = 1; i <= 10; i++) {
                Blocking.push(s, "q", bytes("m" + i));
            }
            assertEquals(names(1, 4), take(s, "q", "a", 4));
            List<Leased> b = lease(s, "q", "b", 5);
            // Out of order: 2 and 4 acknowledged, 1, 3 and 5 left leased (delivered again after the restart).
            Blocking.join(s.settle("q", "b", Settlement.ACK, List.of(b.get(1).lease(), b.get(3).lease()),
                    Duration.ZERO));
        }
        assertTrue(Files.isRegularFile(dir.resolve("queues/q/subs/a/subscription.json")));
        assertTrue(Files.isRegularFile(dir.resolve("queues/q/subs/a/cursor.dat")));
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(names(5, 10), take(s, "q", "a", 100), "a resumes after what it pulled");
            List<String> again = lease(s, "q", "b", 100).stream().map(l -> new String(l.payload())).toList();
            assertEquals(List.of("m1", "m3", "m5", "m6", "m7", "m8", "m9", "m10"), again,
                    "b's acknowledged 2 and 4 stay acknowledged; its unacknowledged leases come back");
            assertEquals(names(1, 10), take(s, "q", null, 100), "the queue's own reader is untouched");
            SubscriptionStats p = (SubscriptionStats) s.subscription("q", "p");
            assertTrue(p.paused());
            assertEquals(7, p.maxDeliveries());
            assertEquals("elsewhere", p.deadLetterQueue());
            assertEquals(10, p.backlog());
        }
    }

    @Test
    void aSeekBackShouldSurviveARestartWithoutTheOldAcks() {
        StoreConfig c = config(dir);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            s.createSubscription("q", "r", at(new SubscriptionStart.Earliest()));
            for (int i = 1; i <= 10; i++) {
                Blocking.push(s, "q", bytes("m" + i));
            }
            List<Leased> l = lease(s, "q", "r", 10);
            // Acks above the floor (8 and 9) would be restored by a replay of the log if the seek did not snapshot.
            Blocking.join(s.settle("q", "r", Settlement.ACK, List.of(l.get(0).lease(), l.get(7).lease(),
                    l.get(8).lease()), Duration.ZERO));
            s.seek("q", "r", new SubscriptionStart.AtId(l.get(1).id()));
        }
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(names(2, 10), take(s, "q", "r", 100));
        }
    }

    @Test
    void whatACrashLeavesShouldRecoverEverySubscription() throws IOException {
        StoreConfig c = config(dir);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            s.createSubscription("q", "a", at(new SubscriptionStart.Latest()));
            for (int i = 1; i <= 6; i++) {
                Blocking.push(s, "q", bytes("m" + i));
            }
            assertEquals(names(1, 3), take(s, "q", "a", 3));
            // The files as a kill -9 now would leave them (no final checkpoint, nothing closed).
            StoreTestSupport.copyTree(dir, copy.resolve("store"));
        }
        Files.delete(copy.resolve("store/spool.lock"));
        try (JournalQueueStore s = JournalQueueStore.open(config(copy.resolve("store")))) {
            assertEquals(names(4, 6), take(s, "q", "a", 100));
            assertEquals(names(1, 6), take(s, "q", null, 100));
            Blocking.push(s, "q", bytes("m7"));
            assertEquals(List.of("m7"), take(s, "q", "a", 100), "a new message reaches the recovered subscription");
        }
    }

    @Test
    void journalFilesShouldBeReleasedOnlyWhenEveryReaderIsPastThem() throws IOException {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        StoreConfig c = config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock);
        Path journal = dir.resolve("queues/q/journal");
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            s.createSubscription("q", "slow", at(new SubscriptionStart.Latest()));
            for (int i = 1; i <= 10; i++) {
                Blocking.push(s, "q", bytes("m" + i));
                clock.advance(Duration.ofSeconds(1));
            }
            assertEquals(names(1, 10), take(s, "q", null, 10));
            assertEquals(10, cycleFiles(journal), "the slow subscription has consumed nothing: every file stays");
            assertEquals(names(1, 6), take(s, "q", "slow", 6));
            assertEquals(5, cycleFiles(journal), "files of 1-5 are behind every reader; 6's holds a cursor");
        }
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(5, cycleFiles(journal), "a restart keeps what the slow subscription still needs");
            assertEquals(names(7, 10), take(s, "q", "slow", 10));
            assertEquals(1, cycleFiles(journal));
        }
    }

    @Test
    void deletingASubscriptionShouldReleaseWhatItHeld() throws IOException {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        StoreConfig c = config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock);
        Path journal = dir.resolve("queues/q/journal");
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            s.createSubscription("q", "gone", at(new SubscriptionStart.Latest()));
            for (int i = 1; i <= 5; i++) {
                Blocking.push(s, "q", bytes("m" + i));
                clock.advance(Duration.ofSeconds(1));
            }
            assertEquals(names(1, 5), take(s, "q", null, 5));
            assertEquals(5, cycleFiles(journal));
            s.deleteSubscription("q", "gone");
            assertFalse(Files.exists(dir.resolve("queues/q/subs/gone")));
            Blocking.push(s, "q", bytes("m6"));
            assertEquals(List.of("m6"), take(s, "q", null, 5));
            assertTrue(cycleFiles(journal) <= 2, "the deleted subscription holds nothing back");
        }
    }

    @Test
    void aSeekToAnIdShouldFindItAcrossCycleFiles() {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        StoreConfig c = config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            List<Long> ids = new ArrayList<>();
            for (int i = 1; i <= 30; i++) {
                ids.add(StoreTestSupport.storedId(Blocking.push(s, "q", bytes("m" + i))));
                if (i % 3 == 0) {
                    clock.advance(Duration.ofSeconds(1));
                }
            }
            s.createSubscription("q", "r", at(new SubscriptionStart.Earliest()));
            for (int k : new int[] {1, 3, 4, 7, 16, 28, 30}) {
                s.seek("q", "r", new SubscriptionStart.AtId(ids.get(k - 1)));
                assertEquals(names(k, 30), take(s, "q", "r", 100), "from message " + k);
            }
            // From a time: the clock of message 13's second (13 to 15 were pushed in it).
            s.seek("q", "r", new SubscriptionStart.FromTime(Instant.parse("2026-01-01T00:00:04Z")));
            assertEquals(names(13, 30), take(s, "q", "r", 100));
        }
    }

    @Test
    void theOldestUnconsumedMessagesAgeShouldBeKeptToTheSecond() {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00.250Z"));
        StoreConfig c = config(dir).withRollCycle(JournalRollCycle.DAILY, clock);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            s.createSubscription("q", "a", at(new SubscriptionStart.Latest()));
            Blocking.push(s, "q", bytes("m1"));
            clock.advance(Duration.ofSeconds(30));
            Blocking.push(s, "q", bytes("m2"));
            clock.advance(Duration.ofSeconds(60));
            assertEquals(90_250, ((SubscriptionStats) s.subscription("q", "a")).oldestAgeMillis(),
                    "m1 was appended in the second 90.25 s ago");
            assertEquals(List.of("m1"), take(s, "q", "a", 1));
            assertEquals(60_250, ((SubscriptionStats) s.subscription("q", "a")).oldestAgeMillis());
            assertEquals(List.of("m2"), take(s, "q", "a", 1));
            assertEquals(0, ((SubscriptionStats) s.subscription("q", "a")).oldestAgeMillis(), "none left");
        }
    }

    @Test
    void aRedriveForOneReaderShouldStayItsAloneAfterARestart() {
        StoreConfig c = config(dir);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            s.createSubscription("q", "d", new SubscriptionSpec(new SubscriptionStart.Latest(), 1, null, false));
            s.createSubscription("q", "other", at(new SubscriptionStart.Latest()));
            Blocking.push(s, "q", bytes("m1"));
            List<Leased> l = lease(s, "q", "d", 1);
            Blocking.join(s.settle("q", "d", Settlement.NACK, List.of(l.get(0).lease()), Duration.ZERO));
            s.awaitStoreThread();
            assertEquals(1, ((dev.spool.storage.RedriveResult.Moved) s.redrive("q", "d")).count());
        }
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.seek("q", "other", new SubscriptionStart.Earliest());
            assertEquals(List.of("m1"), take(s, "q", "other", 10), "other never receives d's redriven copy");
            assertEquals(List.of("m1"), take(s, "q", null, 10), "nor do the queue's own consumers");
            assertEquals(List.of("m1"), take(s, "q", "d", 10), "d does, once");
        }
    }

    @Test
    void newIdsShouldNeverRepeatWhatASubscriptionConsumed() throws IOException {
        StoreConfig c = config(dir);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            s.createSubscription("q", "a", at(new SubscriptionStart.Latest()));
            for (int i = 1; i <= 3; i++) {
                Blocking.push(s, "q", bytes("m" + i));
            }
            assertEquals(names(1, 3), take(s, "q", "a", 3));
        }
        List<Message> after;
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            long id = StoreTestSupport.storedId(Blocking.push(s, "q", bytes("m4")));
            assertTrue(id > 3, "id " + id);
            after = ((TakeResult.Taken) Blocking.join(s.take("q", "a", 10, Duration.ZERO))).messages();
        }
        assertEquals(1, after.size());
        assertEquals("m4", new String(after.get(0).payload()));
    }
}
