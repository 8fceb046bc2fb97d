package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreException;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batch whose append fails part-way (a failed write, a fault of the mapping) is all-or-nothing for readers:
 * its entries already in the journal are never delivered, before or after a restart, their ids are never
 * used again, and their idempotency keys are not remembered.
 */
@Timeout(60)
class FailedBatchTest {
    private static final List<String> BATCH = List.of("m1", "m2", "m3", "m4", "m5");
    private static final List<String> KEYS = List.of("k1", "k2", "k3", "k4", "k5");

    @TempDir
    Path dir;

    @AfterEach
    void disarm() {
        Faults.clear();
    }

    private JournalQueueStore open() {
        return JournalQueueStore.open(StoreTestSupport.config(dir).withIdempotencyWindow(Duration.ofHours(1)));
    }

    private static List<byte[]> payloads(String suffix) {
        return BATCH.stream().map(m -> bytes(m + suffix)).toList();
    }

    /** Pushes the keyed batch with its third append failing: m1 and m2 are in the journal, m3 half-way. */
    private static void failPartWay(JournalQueueStore s) {
        Faults.fail(Faults.Point.BATCH_APPEND, 2);
        StoreException e = assertThrows(StoreException.class,
                () -> Blocking.pushBatch(s, "q", payloads(""), KEYS));
        assertTrue(e.getMessage().contains("push to queue 'q'"), e.getMessage());
    }

    @Test
    void entriesOfABatchThatFailedPartWayShouldNeverBeDeliveredNorTheirIdsReused() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(100));
            assertEquals(1, StoreTestSupport.storedId(Blocking.push(s, "q", bytes("before"))));
            failPartWay(s);
            assertEquals(1, Blocking.stats(s, "q").orElseThrow().depth(), "the failed batch counts for nothing");
            assertEquals("before", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"), "m1 and m2 are not delivered");
            long after = StoreTestSupport.storedId(Blocking.push(s, "q", bytes("after")));
            assertTrue(after > 4, "ids 2 to 4 were the failed batch's: never used again, was " + after);
            PushResult.Stored retry = (PushResult.Stored) Blocking.pushBatch(s, "q", payloads("-retry"), KEYS);
            assertEquals(0, retry.duplicates(), "the failed batch's keys were not remembered");
            assertEquals("after", text(Blocking.pull(s, "q")));
            for (String m : BATCH) {
                assertEquals(m + "-retry", text(Blocking.pull(s, "q")));
            }
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
        try (JournalQueueStore s = open()) {
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"), "nothing of the failed batch after a restart");
            assertEquals(0, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }

    @Test
    void aFailedBatchShouldStayVoidAfterARestartWithoutACheckpoint() throws Exception {
        Path copy = dir.resolveSibling(dir.getFileName() + "-crashed");
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(100));
            Blocking.push(s, "q", bytes("before"));
            failPartWay(s);
            Blocking.push(s, "q", bytes("after"));
            StoreTestSupport.copyTree(dir, copy); // the files as a kill -9 now would leave them
        }
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(copy))) {
            assertEquals("before", text(Blocking.pull(s, "q")));
            assertEquals("after", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
            PushResult.Stored retry = (PushResult.Stored) Blocking.pushBatch(s, "q", payloads("-retry"), KEYS);
            assertEquals(0, retry.duplicates(), "the failed batch's keys are not remembered after the restart");
        } finally {
            FileTrees.delete(copy);
        }
    }

    @Test
    void leasesShouldSkipTheEntriesOfAFailedBatch() {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(100));
            Blocking.push(s, "q", bytes("before"));
            List<Leased> first = ((LeaseResult.Granted) Blocking.lease(s, "q", 1, Duration.ofMinutes(5))).messages();
            failPartWay(s);
            Blocking.push(s, "q", bytes("after"));
            List<String> got = new ArrayList<>();
            for (Leased l : ((LeaseResult.Granted) Blocking.lease(s, "q", 10, Duration.ofMinutes(5))).messages()) {
                got.add(new String(l.payload(), StandardCharsets.UTF_8));
            }
            assertEquals(List.of("after"), got);
            Blocking.ack(s, "q", List.of(first.get(0).lease()));
            assertEquals(1, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }
}
