package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.CreateResult;
import dev.spool.storage.Durability;
import dev.spool.storage.Fsync;
import dev.spool.storage.Message;
import dev.spool.storage.NoSuchQueue;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStats;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.config;
import static dev.spool.storage.StoreTestSupport.storedId;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalQueueStoreTest {
    @TempDir
    Path dir;

    private JournalQueueStore open() {
        return JournalQueueStore.open(config(dir));
    }

    @Test
    void pushShouldReturnConsecutiveIdsFromOne() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            assertEquals(1, storedId(Blocking.push(s, "q", bytes("a"))));
            assertEquals(2, storedId(Blocking.push(s, "q", bytes("b"))));
        }
    }

    @Test
    void pullShouldReturnMessagesInFifoOrderWithTheirIds() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            for (String m : List.of("one", "two", "three")) {
                Blocking.push(s, "q", bytes(m));
            }
            PullResult first = Blocking.pull(s, "q");
            assertEquals("one", text(first));
            assertEquals(1, ((PullResult.Message) first).id());
            assertEquals("two", text(Blocking.pull(s, "q")));
            assertEquals("three", text(Blocking.pull(s, "q")));
        }
    }

    @Test
    void pullShouldReturnEmptyWhenQueueEmpty() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
            Blocking.push(s, "q", bytes("x"));
            Blocking.pull(s, "q");
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }

    @Test
    void pushAndPullShouldReportMissingQueue() {
        try (JournalQueueStore s = open()) {
            assertInstanceOf(NoSuchQueue.class, Blocking.push(s, "nope", bytes("x")));
            assertInstanceOf(PullResult.NoSuchQueue.class, Blocking.pull(s, "nope"));
            assertTrue(Blocking.stats(s, "nope").isEmpty());
            assertFalse(Blocking.delete(s, "nope"));
        }
    }

    @Test
    void pushShouldBeRefusedWhenQueueFullAndStoreNothing() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(2));
            Blocking.push(s, "q", bytes("a"));
            Blocking.push(s, "q", bytes("b"));
            PushResult r = Blocking.push(s, "q", bytes("c"));
            assertEquals(new PushResult.Full(2, 2), r);
            assertEquals(2, Blocking.stats(s, "q").orElseThrow().totalPushed());
            assertEquals("a", text(Blocking.pull(s, "q")));
            assertEquals("b", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }

    @Test
    void maxLengthShouldCountOnlyUnconsumedMessages() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(1));
            Blocking.push(s, "q", bytes("a"));
            Blocking.pull(s, "q");
            assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "q", bytes("b")));
        }
    }

    @Test
    void batchShouldStoreAllWithConsecutiveIds() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(5));
            Blocking.push(s, "q", bytes("0"));
            PushResult.Stored r = (PushResult.Stored) Blocking.pushBatch(s, "q", List.of(bytes("1"), bytes("2"), bytes("3")));
            assertEquals(2, r.firstId());
            assertEquals(3, r.count());
            assertEquals(4, r.id(2));
            assertEquals(4, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }

    @Test
    void batchShouldStoreNothingWhenItDoesNotFit() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(3));
            Blocking.push(s, "q", bytes("0"));
            PushResult r = Blocking.pushBatch(s, "q", List.of(bytes("1"), bytes("2"), bytes("3")));
            assertEquals(new PushResult.Full(1, 3), r);
            assertEquals(1, Blocking.stats(s, "q").orElseThrow().depth());
            assertEquals("0", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }

    @Test
    void createShouldReturnExistsAndKeepOptionsForTakenName() {
        try (JournalQueueStore s = open()) {
            assertEquals(CreateResult.CREATED, s.create("q", new QueueOptions(5, "result")));
            assertEquals(CreateResult.EXISTS, s.create("q", new QueueOptions(9, "transaction")));
            assertEquals(5, Blocking.stats(s, "q").orElseThrow().maxLength());
            assertEquals("result", Blocking.stats(s, "q").orElseThrow().type());
        }
    }

    @Test
    void listShouldReturnSortedNames() {
        try (JournalQueueStore s = open()) {
            s.create("b", QueueOptions.ofMaxLength(1));
            s.create("a", QueueOptions.ofMaxLength(1));
            s.create("c.dlq", QueueOptions.ofMaxLength(1));
            assertEquals(List.of("a", "b", "c.dlq"), s.list());
        }
    }

    @Test
    void invalidQueueNamesShouldBeRefused() {
        try (JournalQueueStore s = open()) {
            for (String bad : List.of("", "..", ".hidden", "a/b", "a\\b", "x".repeat(121), "a b", "a%2Fb")) {
                assertThrows(IllegalArgumentException.class, () -> s.create(bad, QueueOptions.ofMaxLength(1)), bad);
            }
            assertEquals(List.of(), s.list());
        }
    }

    @Test
    void statsShouldReportDepthTotalsTypeAndDiskUse() {
        try (JournalQueueStore s = open()) {
            s.create("q", new QueueOptions(10, "transaction"));
            for (int i = 0; i < 3; i++) {
                Blocking.push(s, "q", bytes("m" + i));
            }
            Blocking.pull(s, "q");
            QueueStats st = Blocking.stats(s, "q").orElseThrow();
            assertEquals("q", st.name());
            assertEquals(2, st.depth());
            assertEquals(10, st.maxLength());
            assertEquals("transaction", st.type());
            assertEquals(3, st.totalPushed());
            assertEquals(1, st.totalPulled());
            assertTrue(st.bytesOnDisk() > 0, "bytes on disk " + st.bytesOnDisk());
            assertTrue(st.bytesOnDisk() < 64L << 20, "counts allocated blocks, not sparse size: " + st.bytesOnDisk());
        }
    }

    @Test
    void deleteShouldRemoveJournalAndCursorFiles() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            Blocking.push(s, "q", bytes("x"));
            Path qdir = dir.resolve("queues").resolve("q");
            assertTrue(Files.exists(qdir.resolve("cursor.dat")));
            assertTrue(Blocking.delete(s, "q"));
            assertFalse(Files.exists(qdir));
            assertEquals(List.of(), s.list());
            assertInstanceOf(NoSuchQueue.class, Blocking.push(s, "q", bytes("y")));
        }
    }

    @Test
    void recreatedQueueShouldBeEmpty() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            Blocking.push(s, "q", bytes("old"));
            Blocking.delete(s, "q");
            s.create("q", QueueOptions.ofMaxLength(10));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
            assertEquals(0, Blocking.stats(s, "q").orElseThrow().totalPushed());
        }
        try (JournalQueueStore s = open()) {
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }

    @Test
    void deletedQueueShouldStayDeletedAfterReopen() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            s.create("keep", QueueOptions.ofMaxLength(10));
            s.checkpoint();
            Blocking.delete(s, "q");
        }
        try (JournalQueueStore s = open()) {
            assertEquals(List.of("keep"), s.list());
        }
    }

    @Test
    void messagesQueuesAndCursorShouldSurviveReopen() {
        try (JournalQueueStore s = open()) {
            s.create("q", new QueueOptions(7, "result"));
            for (int i = 1; i <= 5; i++) {
                Blocking.push(s, "q", bytes("m" + i));
            }
            Blocking.pull(s, "q");
            Blocking.pull(s, "q");
        }
        try (JournalQueueStore s = open()) {
            QueueStats st = Blocking.stats(s, "q").orElseThrow();
            assertEquals(3, st.depth());
            assertEquals(7, st.maxLength());
            assertEquals("result", st.type());
            assertEquals(5, st.totalPushed());
            assertEquals(2, st.totalPulled());
            assertEquals("m3", text(Blocking.pull(s, "q")));
            assertEquals(6, storedId(Blocking.push(s, "q", bytes("m6"))));
        }
    }

    @Test
    void lastMessageShouldNotComeBackAfterReopenWhenQueueWasDrained() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(7));
            Blocking.push(s, "q", bytes("only"));
            assertEquals("only", text(Blocking.pull(s, "q")));
        }
        try (JournalQueueStore s = open()) {
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
            assertEquals(2, storedId(Blocking.push(s, "q", bytes("next"))));
            assertEquals("next", text(Blocking.pull(s, "q")));
        }
    }

    @Test
    void checkpointShouldHoldMetadataAndEveryCursor() throws Exception {
        try (JournalQueueStore s = open()) {
            s.create("a", new QueueOptions(3, "transaction"));
            s.create("b", QueueOptions.ofMaxLength(4));
            Blocking.push(s, "a", bytes("1"));
            Blocking.push(s, "a", bytes("2"));
            Blocking.pull(s, "a");
            s.checkpoint();
            var entries = Checkpoint.read(new com.fasterxml.jackson.databind.ObjectMapper(), dir.resolve("queues.json"));
            assertEquals(2, entries.size());
            assertEquals(1, entries.get("a").cursor().id());
            assertEquals("transaction", entries.get("a").meta().options().type());
            assertEquals(0, entries.get("b").cursor().id());
            assertEquals(4, entries.get("b").meta().options().maxLength());
        }
    }

    @Test
    void checkpointShouldBeWrittenEverySavePeriod() throws Exception {
        StoreConfig c = config(dir).withCheckpointPeriod(Duration.ofMillis(100));
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(3));
            Blocking.push(s, "q", bytes("1"));
            Blocking.pull(s, "q");
            var json = new com.fasterxml.jackson.databind.ObjectMapper();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            long seen = -1;
            while (System.nanoTime() < deadline) {
                var entries = Checkpoint.read(json, dir.resolve("queues.json"));
                if (entries.containsKey("q")) {
                    seen = entries.get("q").cursor().id();
                    if (seen == 1) {
                        break;
                    }
                }
                Thread.onSpinWait();
            }
            assertEquals(1, seen, "a periodic checkpoint should have recorded the pull");
        }
    }

    @Test
    void closeShouldBeIdempotentAndRefuseAdminAfterwards() {
        JournalQueueStore s = open();
        s.create("q", QueueOptions.ofMaxLength(3));
        s.close();
        s.close();
        StoreException e = assertThrows(StoreException.class, () -> s.create("r", QueueOptions.ofMaxLength(3)));
        assertEquals(StoreException.Code.CLOSED, e.code());
    }

    @Test
    void largeMessagesShouldRoundTrip() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(3));
            byte[] big = new byte[1 << 20];
            new java.util.Random(7).nextBytes(big);
            Blocking.push(s, "q", big);
            PullResult.Message m = (PullResult.Message) Blocking.pull(s, "q");
            assertTrue(java.util.Arrays.equals(big, m.payload()));
        }
    }

    @Test
    void fsyncPoliciesShouldStateTheDurabilityTheyGive() {
        List<Durability> seen = new ArrayList<>();
        for (Fsync f : Fsync.values()) {
            Path sub = dir.resolve(f.name());
            StoreConfig c = StoreConfig.defaults(sub.resolve("queues.json")).withFsync(f, Duration.ofMillis(2));
            try (JournalQueueStore s = JournalQueueStore.open(c)) {
                s.create("q", QueueOptions.ofMaxLength(10));
                PushResult.Stored r = (PushResult.Stored) Blocking.push(s, "q", bytes("x"));
                seen.add(r.durability());
                assertEquals("x", text(Blocking.pull(s, "q")));
            }
        }
        assertEquals(List.of(Durability.PROCESS, Durability.DISK, Durability.DISK), seen);
    }
}
