package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.LogCapture;
import dev.spool.storage.PullResult;
import dev.spool.storage.QueueOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.config;
import static dev.spool.storage.StoreTestSupport.storedId;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorruptionTest {
    @TempDir
    Path dir;

    private void fill(int pushed, int pulled) {
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            s.create("q", new QueueOptions(100_000, "transaction"));
            s.create("other", QueueOptions.ofMaxLength(10));
            for (int i = 1; i <= pushed; i++) {
                Blocking.push(s, "q", bytes(String.format("msg-%06d|payload", i)));
            }
            Blocking.push(s, "other", bytes("keep me"));
            for (int i = 0; i < pulled; i++) {
                Blocking.pull(s, "q");
            }
        }
    }

    private void assertIntact(JournalQueueStore s, int from, int to) {
        for (int i = from; i <= to; i++) {
            assertEquals(String.format("msg-%06d|payload", i), text(Blocking.pull(s, "q")));
        }
    }

    @Test
    void garbageCheckpointShouldBeReportedAndQueuesRecoveredFromJournals() throws IOException {
        fill(50, 10);
        byte[] junk = new byte[300];
        new java.util.Random(1).nextBytes(junk);
        Files.write(dir.resolve("queues.json"), junk);
        try (LogCapture log = new LogCapture(); JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertTrue(log.errors().stream().anyMatch(m -> m.contains("checkpoint") && m.contains("corrupt")),
                    log.errors().toString());
            assertEquals(List.of("other", "q"), s.list());
            assertEquals(40, Blocking.stats(s, "q").orElseThrow().depth());
            assertEquals("transaction", Blocking.stats(s, "q").orElseThrow().type());
            assertIntact(s, 11, 50);
            assertEquals("keep me", text(Blocking.pull(s, "other")));
        }
    }

    @Test
    void truncatedCheckpointShouldBeReportedAndQueuesRecovered() throws IOException {
        fill(20, 5);
        Path cp = dir.resolve("queues.json");
        byte[] whole = Files.readAllBytes(cp);
        Files.write(cp, java.util.Arrays.copyOf(whole, whole.length / 2));
        try (LogCapture log = new LogCapture(); JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertTrue(log.errors().stream().anyMatch(m -> m.contains("checkpoint") && m.contains("corrupt")),
                    log.errors().toString());
            assertEquals(15, Blocking.stats(s, "q").orElseThrow().depth());
            assertIntact(s, 6, 20);
        }
    }

    @Test
    void editedCheckpointShouldFailItsChecksum() throws IOException {
        fill(5, 0);
        Path cp = dir.resolve("queues.json");
        String text = Files.readString(cp).replace("\"max_length\" : 100000", "\"max_length\" : 100001");
        Files.writeString(cp, text);
        try (LogCapture log = new LogCapture(); JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertTrue(log.errors().stream().anyMatch(m -> m.contains("checksum mismatch")), log.errors().toString());
            assertEquals(100_000, Blocking.stats(s, "q").orElseThrow().maxLength());
        }
    }

    @Test
    void damagedCursorShouldBeReportedAndFallBackToTheCheckpoint() throws IOException {
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            s.create("q", QueueOptions.ofMaxLength(100));
            for (int i = 1; i <= 10; i++) {
                Blocking.push(s, "q", bytes(String.format("msg-%06d|payload", i)));
            }
            for (int i = 0; i < 5; i++) {
                Blocking.pull(s, "q");
            }
        }
        Path cursor = dir.resolve("queues/q/cursor.dat");
        Files.write(cursor, new byte[128]);
        try (LogCapture log = new LogCapture(); JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertTrue(log.errors().stream().anyMatch(m -> m.contains("cursor file") && m.contains("damaged")),
                    log.errors().toString());
            // Without the checkpoint's cursor (5 pulled) the queue would restart at message 1.
            assertEquals(5, Blocking.stats(s, "q").orElseThrow().depth());
            assertIntact(s, 6, 10);
        }
    }

    @Test
    void tornJournalTailShouldBeReportedAndIntactMessagesKept() throws IOException {
        fill(1000, 100);
        Path cycle = onlyCycleFile(dir.resolve("queues/q/journal"));
        long torn = offsetOf(cycle, "msg-000700|");
        try (RandomAccessFile f = new RandomAccessFile(cycle.toFile(), "rw")) {
            f.setLength(torn + 5);
        }
        try (LogCapture log = new LogCapture(); JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertTrue(log.errors().stream().anyMatch(m -> m.contains("torn")), log.errors().toString());
            assertEquals(599, Blocking.stats(s, "q").orElseThrow().depth());
            assertIntact(s, 101, 699);
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
            long id = storedId(Blocking.push(s, "q", bytes("after repair")));
            assertEquals(1001, id, "ids 700-1000 were answered before the tail was torn: never used again");
            assertEquals("after repair", text(Blocking.pull(s, "q")));
            assertEquals("keep me", text(Blocking.pull(s, "other")));
        }
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertEquals(0, Blocking.stats(s, "q").orElseThrow().depth());
            Blocking.push(s, "q", bytes("later"));
            assertEquals("later", text(Blocking.pull(s, "q")));
        }
    }

    static Path onlyCycleFile(Path journal) throws IOException {
        try (Stream<Path> files = Files.list(journal)) {
            List<Path> cq4 = files.filter(p -> p.toString().endsWith(".cq4")).toList();
            assertEquals(1, cq4.size(), cq4.toString());
            return cq4.get(0);
        }
    }

    static long offsetOf(Path file, String marker) throws IOException {
        byte[] all = Files.readAllBytes(file);
        byte[] m = marker.getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + m.length <= all.length; i++) {
            for (int j = 0; j < m.length; j++) {
                if (all[i + j] != m[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError(marker + " not found in " + file);
    }
}
