package dev.spool.storage.journal;

import dev.spool.storage.LogCapture;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The self-compacting state log on real files: snapshots, fallbacks and damage. */
@Timeout(30)
class StateLogTest {
    private static final byte[] MAGIC = {'S', 'P', 'S', 'L', 2};

    @TempDir
    Path dir;

    private StateLog open() throws IOException {
        StoreConfig c = StoreTestSupport.config(dir);
        return StateLog.open("q", dir, c, new Quarantine(dir, c.clock()));
    }

    private static void snapshot(StateLog log, long floor, List<Long> done, Map<Long, Integer> deliveries,
                                 Map<String, IdempotencyWindow.Seen> keys) throws IOException {
        long begin = log.beginSnapshot(floor, List.of());
        log.finishSnapshot(begin, new StateLog.State(floor, new ArrayList<>(done), new java.util.HashMap<>(deliveries),
                new java.util.LinkedHashMap<>(keys), List.of()));
        log.snapshotDurable(begin);
    }

    @Test
    void recoveryShouldBeTheNewestSnapshotPlusTheEventsAfterIt() throws IOException {
        try (StateLog log = open()) {
            log.done(5);
            log.lease(6, 1);
            log.key("k1", 7, 100);
            snapshot(log, 0, List.of(5L), Map.of(6L, 1), Map.of("k1", new IdempotencyWindow.Seen(7, 100)));
            log.done(8);
            log.lease(6, 2);
            log.key("k2", 9, 200);
        }
        try (StateLog log = open()) {
            StateLog.State s = log.recover();
            assertEquals(List.of(5L, 8L), s.done());
            assertEquals(Map.of(6L, 2), s.deliveries());
            assertEquals(Map.of("k1", new IdempotencyWindow.Seen(7, 100), "k2", new IdempotencyWindow.Seen(9, 200)),
                    s.keys());
        }
    }

    @Test
    void aKeyUsedAgainShouldBeReplayedWithItsLatestUse() throws IOException {
        try (StateLog log = open()) {
            log.key("k", 1, 100);
            snapshot(log, 0, List.of(), Map.of(), Map.of("k", new IdempotencyWindow.Seen(1, 100)));
            log.key("k", 5, 900); // the window passed; the key named a new message
            log.key("k", 8, 1900);
        }
        try (StateLog log = open()) {
            assertEquals(new IdempotencyWindow.Seen(8, 1900), log.recover().keys().get("k"));
        }
    }

    @Test
    void aLogWithoutSnapshotShouldReplayFromItsCreation() throws IOException {
        try (StateLog log = open()) {
            log.done(3);
            log.done(4);
        }
        try (StateLog log = open()) {
            assertEquals(List.of(3L, 4L), log.recover().done());
        }
    }

    /** Defect 3: whatever byte of the newest snapshot is damaged, no acknowledgement is lost. */
    @Test
    void aSnapshotDamagedAtAnyPointShouldFallBackToThePreviousWithoutLosingAcks() throws IOException {
        List<Long> acked = new ArrayList<>();
        try (StateLog log = open()) {
            for (long id = 2; id < 400; id += 2) {
                log.done(id);
                acked.add(id);
            }
            snapshot(log, 0, acked, Map.of(), Map.of());
            for (long id = 401; id < 800; id += 2) {
                log.done(id);
                acked.add(id);
            }
            snapshot(log, 0, acked, Map.of(1L, 3), Map.of("key", new IdempotencyWindow.Seen(1, 1)));
            log.done(1001);
            acked.add(1001L);
        }
        Path file = onlyCycleFile();
        byte[] pristine = Files.readAllBytes(file);
        List<int[]> snapshotEntries = entries(pristine, 4, 8);
        int newest = 0; // where the second snapshot begins
        for (int k = 0; k < snapshotEntries.size(); k++) {
            if (pristine[snapshotEntries.get(k)[0] + 5] == 4) {
                newest = k;
            }
        }
        Random random = new Random(42);
        for (int round = 0; round < 25; round++) {
            int[] entry = snapshotEntries.get(newest + random.nextInt(snapshotEntries.size() - newest));
            int at = entry[0] + 5 + random.nextInt(entry[1] - 5);
            byte[] damaged = pristine.clone();
            damaged[at] ^= (byte) (1 + random.nextInt(255));
            Files.write(file, damaged);
            try (LogCapture logs = new LogCapture(); StateLog log = open()) {
                StateLog.State s = log.recover();
                assertTrue(s.done().containsAll(acked), "round " + round + ": an acknowledgement was lost");
                assertTrue(logs.errors().stream().anyMatch(e -> e.contains("damaged")), logs.errors().toString());
            }
        }
    }

    /** Defect 3: a log that cannot be replayed refuses to open, naming the folder and the way out. */
    @Test
    void aLogWithBothSnapshotsDamagedAndItsBeginningGoneShouldRefuseToRecover() throws IOException {
        try (StateLog log = open()) {
            log.done(2);
            snapshot(log, 0, List.of(2L), Map.of(), Map.of());
            log.done(3);
            snapshot(log, 0, List.of(2L, 3L), Map.of(), Map.of());
        }
        Path file = onlyCycleFile();
        byte[] bytes = Files.readAllBytes(file);
        // The beginning (CREATED) is gone, as after retention deleted older files, and every snapshot chunk is bad.
        for (int[] e : entries(bytes, 0, 0)) {
            bytes[e[0] + 6] ^= 0x55;
        }
        for (int[] e : entries(bytes, 5, 5)) {
            bytes[e[0] + 6] ^= 0x55;
        }
        Files.write(file, bytes);
        try (StateLog log = open()) {
            StateLog.UnreplayableException e = assertThrows(StateLog.UnreplayableException.class, log::recover);
            assertTrue(e.getMessage().contains(dir.resolve(StateLog.DIR).toString()), e.getMessage());
            assertTrue(e.getMessage().contains("mv "), "names the recovery command: " + e.getMessage());
        }
    }

    /** Defect 4: entries are versioned and checked; damage is reported with the file, never skipped silently. */
    @Test
    void aDamagedOrForeignEntryShouldBeReportedWithItsFile() throws IOException {
        try (StateLog log = open()) {
            log.done(2);
            log.done(3);
        }
        Path file = onlyCycleFile();
        byte[] bytes = Files.readAllBytes(file);
        int[] second = entries(bytes, 1, 1).get(1);
        bytes[second[0] + 7] ^= 0x01; // inside the id of done(3)
        Files.write(file, bytes);
        StoreConfig c = StoreTestSupport.config(dir);
        try (ChronicleFolder raw = ChronicleFolder.open(dir.resolve(StateLog.DIR), c.rollCycle(), c.clock(),
                new Quarantine(dir, c.clock()));
             ExcerptAppender a = raw.appender()) {
            try (DocumentContext dc = a.writingDocument()) {
                dc.wire().bytes().write(new byte[] {1, 2, 3}); // a short entry of no known format
            }
        }
        try (LogCapture logs = new LogCapture(); StateLog log = open()) {
            StateLog.State s = log.recover();
            assertEquals(List.of(2L), s.done());
            String all = logs.errors().toString();
            assertTrue(all.contains("2 damaged state-log entries"), all);
            assertTrue(all.contains(file.getFileName().toString()), all);
        }
    }

    private Path onlyCycleFile() throws IOException {
        try (Stream<Path> files = Files.list(dir.resolve(StateLog.DIR))) {
            List<Path> cq4 = files.filter(p -> p.toString().endsWith(".cq4")).toList();
            assertEquals(1, cq4.size(), cq4.toString());
            return cq4.get(0);
        }
    }

    /**
     * {file offset, length} of each entry whose kind ordinal is in [from, to], as Chronicle frames them
     * (the offsets are checked against the file: each starts with the log's magic).
     */
    private List<int[]> entries(byte[] file, int from, int to) throws IOException {
        StoreConfig c = StoreTestSupport.config(dir);
        List<int[]> out = new ArrayList<>();
        try (ChronicleFolder raw = ChronicleFolder.open(dir.resolve(StateLog.DIR), c.rollCycle(), c.clock(),
                new Quarantine(dir, c.clock()));
             ExcerptTailer t = raw.tailer()) {
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        return out;
                    }
                    int at = (int) dc.wire().bytes().readPosition();
                    int len = (int) dc.wire().bytes().readRemaining();
                    if (len >= 6 && ByteBuffer.wrap(file, at, 5).equals(ByteBuffer.wrap(MAGIC))
                            && file[at + 5] >= from && file[at + 5] <= to) {
                        out.add(new int[] {at, len});
                    }
                }
            }
        }
    }
}
