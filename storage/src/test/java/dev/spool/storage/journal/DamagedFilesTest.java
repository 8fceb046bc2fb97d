package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.LogCapture;
import dev.spool.storage.MutableClock;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Files a power loss or a crash leaves damaged: recovered around, reported, and bounded on disk. */
@Timeout(60)
class DamagedFilesTest {
    @TempDir
    Path dir;

    private JournalQueueStore open() {
        return JournalQueueStore.open(StoreTestSupport.config(dir));
    }

    private List<Path> files(String folder, String glob) throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("queues/q").resolve(folder))) {
            return s.filter(p -> p.getFileSystem().getPathMatcher("glob:" + glob).matches(p.getFileName())).toList();
        }
    }

    /** Defect 12: a cycle file left with 0 bytes must not hang start-up. */
    @Test
    void anEmptyJournalFileShouldBeSetAsideAndTheQueueShouldOpen() throws IOException {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            Blocking.push(s, "q", bytes("lost to the power cut"));
        }
        for (Path f : files("journal", "*.cq4")) {
            Files.write(f, new byte[0]);
        }
        try (LogCapture logs = new LogCapture(); JournalQueueStore s = open()) {
            assertTrue(logs.errors().stream().anyMatch(e -> e.contains("has no header")), logs.errors().toString());
            assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "q", bytes("after")));
            assertEquals("after", text(Blocking.pull(s, "q")));
            assertTrue(Blocking.stats(s, "q").orElseThrow().damagedCopies() >= 1, "the empty file is kept aside");
        }
    }

    /** Defect 12: the same for a file whose header is zeros (the page never reached the disk). */
    @Test
    void aZeroFilledJournalFileShouldBeSetAsideAndTheQueueShouldOpen() throws IOException {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            Blocking.push(s, "q", bytes("x"));
        }
        for (Path f : files("journal", "*.cq4")) {
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.write(new byte[64 * 1024]);
            }
        }
        try (LogCapture logs = new LogCapture(); JournalQueueStore s = open()) {
            assertTrue(logs.errors().stream().anyMatch(e -> e.contains("has no header")), logs.errors().toString());
            assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "q", bytes("after")));
        }
    }

    /** Defect 12: Chronicle's own metadata file, empty after a power loss, is rebuilt rather than waited on. */
    @Test
    void anEmptyMetadataFileShouldNotHangStartUp() throws IOException {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            Blocking.push(s, "q", bytes("kept"));
        }
        for (Path f : files("journal", "*.cq4t")) {
            Files.write(f, new byte[0]);
        }
        try (JournalQueueStore s = open()) {
            assertEquals("kept", text(Blocking.pull(s, "q")));
        }
    }

    /** Defect 13: damaged copies are bounded and reported in the queue's stats. */
    @Test
    void repeatedTornTailsShouldKeepOnlyTheNewestDamagedCopies() throws IOException {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(100));
        }
        for (int round = 0; round < Quarantine.KEEP + 2; round++) {
            try (JournalQueueStore s = open()) {
                Blocking.push(s, "q", bytes("m" + round));
            }
            // Tear the tail: the last entry's bytes are cut short, as a crash mid-write can leave them.
            for (Path f : files("journal", "*.cq4")) {
                byte[] b = Files.readAllBytes(f);
                int last = b.length - 1;
                while (last > 0 && b[last] == 0) {
                    last--;
                }
                b[last] ^= 0x7f;
                Files.write(f, b);
            }
        }
        try (JournalQueueStore s = open()) {
            assertEquals(Quarantine.KEEP, Blocking.stats(s, "q").orElseThrow().damagedCopies());
            try (Stream<Path> kept = Files.list(dir.resolve("queues/q"))) {
                assertEquals(Quarantine.KEEP, kept.filter(p -> p.getFileName().toString().contains(".damaged-")).count());
            }
        }
    }

    /** Defect 11: rebuilding a torn tail needs space for the damaged cycle only; the rest is linked. */
    @Test
    void aTornTailShouldBeRebuiltFromItsOwnCycleLinkingTheIntactOnes() throws Exception {
        MutableClock clock = new MutableClock(java.time.Instant.parse("2026-11-30T00:00:00Z"));
        StoreConfig c = StoreTestSupport.config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock);
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            for (int cycle = 0; cycle < 4; cycle++) {
                for (int i = 0; i < 10; i++) {
                    Blocking.push(s, "q", bytes("c" + cycle + "-" + i));
                }
                clock.advance(java.time.Duration.ofSeconds(1));
            }
            for (int i = 0; i < 5; i++) {
                assertEquals("c0-" + i, text(Blocking.pull(s, "q")));
            }
        }
        List<Path> cycles = files("journal", "*.cq4").stream().sorted().toList();
        assertEquals(4, cycles.size());
        Object firstInode = Files.getAttribute(cycles.get(0), "unix:ino");
        Path last = cycles.get(3);
        byte[] b = Files.readAllBytes(last);
        int end = b.length - 1;
        while (end > 0 && b[end] == 0) {
            end--;
        }
        b[end] ^= 0x7f; // tear the last entry of the last cycle
        Files.write(last, b);
        try (LogCapture logs = new LogCapture(); JournalQueueStore s = JournalQueueStore.open(c)) {
            assertTrue(logs.errors().stream().anyMatch(e -> e.contains("torn")), logs.errors().toString());
            Path rebuiltFirst = dir.resolve("queues/q/journal").resolve(cycles.get(0).getFileName());
            assertEquals(firstInode, Files.getAttribute(rebuiltFirst, "unix:ino"),
                    "an intact cycle is linked, not copied");
            for (int cycle = 0; cycle < 4; cycle++) {
                for (int i = cycle == 0 ? 5 : 0; i < (cycle == 3 ? 9 : 10); i++) {
                    assertEquals("c" + cycle + "-" + i, text(Blocking.pull(s, "q")), "consumed ones never come back");
                }
            }
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }

    /** Defect 11: a rebuild killed after its copy was complete is finished at the next open. */
    @Test
    void aRebuildInterruptedBeforeItsSwapShouldBeFinishedAtOpen() throws Exception {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            Blocking.push(s, "q", bytes("kept"));
        }
        Path q = dir.resolve("queues/q");
        copyTree(q.resolve("journal"), q.resolve("journal.rebuild"));
        Files.createFile(q.resolve("journal.rebuild").resolve("rebuild-complete"));
        Files.move(q.resolve("journal"), q.resolve("journal.damaged-1")); // killed between the two renames
        try (JournalQueueStore s = open()) {
            assertEquals("kept", text(Blocking.pull(s, "q")));
        }
        assertTrue(Files.notExists(q.resolve("journal.rebuild")));
    }

    /** A rebuild killed while copying is discarded: the journal it was made from is still in place. */
    @Test
    void anUnfinishedRebuildShouldBeDiscarded() throws Exception {
        try (JournalQueueStore s = open()) {
            s.create("q", QueueOptions.ofMaxLength(10));
            Blocking.push(s, "q", bytes("kept"));
        }
        Path q = dir.resolve("queues/q");
        Files.createDirectories(q.resolve("journal.rebuild"));
        Files.writeString(q.resolve("journal.rebuild").resolve("partial.cq4"), "half");
        try (JournalQueueStore s = open()) {
            assertEquals("kept", text(Blocking.pull(s, "q")));
        }
        assertTrue(Files.notExists(q.resolve("journal.rebuild")));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
