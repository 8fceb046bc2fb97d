package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Torn writes: the last write of a file damaged at every byte offset (the new bytes landed up to there and the
 * old ones after, or that one byte garbled), then reopened. Cursor slots have {@link CursorTornWriteTest}, snapshots
 * {@link StateLogTest} (any byte of the newest snapshot); here the state log's last entry, a snapshot's last write and the
 * checkpoint.
 */
@Timeout(120)
class TornWriteTest {
    @TempDir
    Path dir;

    private StateLog openLog() throws IOException {
        StoreConfig c = StoreTestSupport.config(dir);
        return StateLog.open("q", dir, c, new Quarantine(dir, c.clock()));
    }

    private Path onlyCycleFile(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> cq4 = files.filter(p -> p.toString().endsWith(".cq4")).toList();
            assertEquals(1, cq4.size(), cq4.toString());
            return cq4.get(0);
        }
    }

    /** A region of a file to overwrite: the write that made it torn or garbled at some byte. */
    private record Patch(int at, byte[] bytes) {
        void applyTo(Path file) throws IOException {
            try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
                f.seek(at);
                f.write(bytes);
            }
        }
    }

    /**
     * Every way the last write (which turned {@code before} into {@code after}) can be torn: its bytes landed up to
     * some offset and the old ones stayed after it, or one of its bytes is garbled. Each is a patch over
     * {@code after}, of the written region only (Chronicle's files are large and sparse).
     */
    private static List<Patch> tornWrites(byte[] before, byte[] after) {
        return tornWrites(before, after, 0);
    }

    private static int lastIndexOf(byte[] in, byte[] what) {
        outer:
        for (int i = in.length - what.length; i >= 0; i--) {
            for (int j = 0; j < what.length; j++) {
                if (in[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    /** As above for a region of the file beginning at {@code base}. */
    private static List<Patch> tornWrites(byte[] before, byte[] after, int base) {
        int first = -1;
        int last = -1;
        for (int i = 0; i < after.length; i++) {
            if (i >= before.length || before[i] != after[i]) {
                first = first < 0 ? i : first;
                last = i;
            }
        }
        assertTrue(first >= 0, "the last write changed the file");
        List<Patch> out = new ArrayList<>();
        for (int k = first; k <= last + 1; k++) {
            byte[] torn = Arrays.copyOfRange(after, first, last + 1);
            for (int i = k; i <= last; i++) {
                torn[i - first] = i < before.length ? before[i] : 0; // the rest of the write never landed
            }
            out.add(new Patch(base + first, torn));
            if (k <= last) {
                byte[] garbled = Arrays.copyOfRange(after, first, last + 1);
                garbled[k - first] ^= (byte) 0x5A;
                out.add(new Patch(base + first, garbled));
            }
        }
        return out;
    }

    @Test
    void aTornLastStateLogEntryShouldLoseAtMostItselfAndNeverStopTheLog() throws IOException {
        try (StateLog log = openLog()) {
            for (long id = 10; id < 20; id++) {
                log.done(id);
            }
        }
        Path file = onlyCycleFile(dir.resolve(StateLog.DIR));
        byte[] before = Files.readAllBytes(file);
        try (StateLog log = openLog()) {
            log.done(99);
        }
        byte[] after = Files.readAllBytes(file);
        // The last write: the entry (found by its magic) and Chronicle's 4-byte header before it.
        int entry = lastIndexOf(after, new byte[]{'S', 'P', 'S', 'L', 2});
        int from = entry - 4;
        int to = entry + 4 + 1 + 1 + 8 + 4;
        List<Patch> patches = tornWrites(Arrays.copyOfRange(before, from, to), Arrays.copyOfRange(after, from, to),
                from);
        Patch pristine = new Patch(from, Arrays.copyOfRange(after, from, to));
        int images = 0;
        for (Patch torn : patches) {
            pristine.applyTo(file);
            torn.applyTo(file);
            try (StateLog log = openLog()) {
                List<Long> done = log.recover().done();
                for (long id = 10; id < 20; id++) {
                    assertTrue(done.contains(id), "image " + images + ": the ack of " + id + ", written before the "
                            + "torn one, was lost: " + done);
                }
            }
            images++;
        }
        assertTrue(images > 20, "every byte of the last entry was tried: " + images);
    }

    @Test
    void aTornEndOfTheNewestSnapshotShouldFallBackWithoutLosingAnAck() throws IOException {
        List<Long> acked = new ArrayList<>();
        try (StateLog log = openLog()) {
            for (long id = 2; id < 40; id += 2) {
                log.done(id);
                acked.add(id);
            }
            snapshot(log, acked);
            for (long id = 41; id < 60; id += 2) {
                log.done(id);
                acked.add(id);
            }
        }
        Path file = onlyCycleFile(dir.resolve(StateLog.DIR));
        byte[] before = Files.readAllBytes(file);
        try (StateLog log = openLog()) {
            snapshot(log, acked); // its last write is its SNAP_END entry
        }
        byte[] after = Files.readAllBytes(file);
        int entry = lastIndexOf(after, new byte[]{'S', 'P', 'S', 'L', 2});
        int from = entry - 4;
        int to = entry + 4 + 1 + 1 + 8 + 4 + 4;
        Patch pristine = new Patch(from, Arrays.copyOfRange(after, from, to));
        List<Patch> patches = tornWrites(Arrays.copyOfRange(before, from, to), Arrays.copyOfRange(after, from, to),
                from);
        for (Patch torn : patches) {
            pristine.applyTo(file);
            torn.applyTo(file);
            try (StateLog log = openLog()) {
                List<Long> done = log.recover().done();
                assertTrue(done.containsAll(acked), "an ack was lost: " + done);
            }
        }
        assertTrue(patches.size() > 20, "every byte of the snapshot's end was tried: " + patches.size());
    }

    private static void snapshot(StateLog log, List<Long> done) throws IOException {
        long begin = log.beginSnapshot(0, List.of());
        log.finishSnapshot(begin, new StateLog.State(0, new ArrayList<>(done), new java.util.HashMap<>(),
                new java.util.LinkedHashMap<>(), List.of()));
        log.snapshotDurable(begin);
    }

    @Test
    void aTornCheckpointShouldLoseNothing() throws Exception {
        StoreConfig config = StoreTestSupport.config(dir);
        Path checkpoint = config.checkpointFile();
        byte[] before;
        try (JournalQueueStore s = JournalQueueStore.open(config)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            for (int i = 1; i <= 6; i++) {
                Blocking.push(s, "q", ("m" + i).getBytes(StandardCharsets.UTF_8));
            }
            Blocking.pull(s, "q");
            List<Leased> leased = ((LeaseResult.Granted) Blocking.lease(s, "q", 2, Duration.ofMinutes(5))).messages();
            Blocking.ack(s, "q", List.of(leased.get(1).lease())); // out of order: m3 done above the cursor
            s.checkpoint();
            before = Files.readAllBytes(checkpoint);
        }
        byte[] after = Files.readAllBytes(checkpoint); // the final checkpoint at close
        List<byte[]> images = new ArrayList<>();
        for (Patch p : tornWrites(before, after)) {
            byte[] image = Arrays.copyOf(after, Math.max(after.length, p.at() + p.bytes().length));
            System.arraycopy(p.bytes(), 0, image, p.at(), p.bytes().length);
            images.add(image);
        }
        // A checkpoint is replaced by a rename, so a torn one can only be the new file cut short: try those too.
        for (int k = 0; k < after.length; k += 7) {
            images.add(Arrays.copyOf(after, k));
        }
        for (byte[] image : images) {
            Files.write(checkpoint, image);
            try (JournalQueueStore s = JournalQueueStore.open(config)) {
                // m1 pulled, m3 acked above the cursor, m2 leased (leases end with a restart): four left, none lost.
                var stats = Blocking.stats(s, "q").orElseThrow();
                assertEquals(4, stats.depth(), "depth after a torn checkpoint");
                assertEquals(0, stats.inFlight());
            }
        }
        try (JournalQueueStore s = JournalQueueStore.open(config)) {
            List<String> got = new ArrayList<>();
            while (Blocking.pull(s, "q") instanceof dev.spool.storage.PullResult.Message m) {
                got.add(new String(m.payload(), StandardCharsets.UTF_8));
            }
            assertEquals(List.of("m2", "m4", "m5", "m6"), got, "once each");
        }
        assertTrue(images.size() > 20, "images tried: " + images.size());
    }
}
