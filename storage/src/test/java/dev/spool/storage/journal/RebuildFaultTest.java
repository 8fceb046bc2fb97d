package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.LogCapture;
import dev.spool.storage.Message;
import dev.spool.storage.PullResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreException;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.config;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rebuilding a torn journal tail: a failure to write the copy is not the end of the intact data (the rebuild stays
 * unfinished and the start is refused with one clear line), and a single corrupt entry in mid-cycle is skipped and
 * counted, not taken as the end.
 */
@Timeout(60)
class RebuildFaultTest {
    private static final int PUSHED = 100;

    @TempDir
    Path dir;

    @AfterEach
    void disarm() {
        Faults.clear();
    }

    private static String msg(int i) {
        return String.format("msg-%06d|payload", i);
    }

    /** Pushes {@link #PUSHED} messages and tears the journal inside message 90. */
    private Path fillAndTear() throws IOException {
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            s.create("q", QueueOptions.ofMaxLength(10_000));
            for (int i = 1; i <= PUSHED; i++) {
                Blocking.push(s, "q", bytes(msg(i)));
            }
        }
        Path cycle = CorruptionTest.onlyCycleFile(dir.resolve("queues/q/journal"));
        long torn = CorruptionTest.offsetOf(cycle, "msg-000090|");
        try (RandomAccessFile f = new RandomAccessFile(cycle.toFile(), "rw")) {
            f.setLength(torn + 5);
        }
        return cycle;
    }

    private List<String> drain(JournalQueueStore s) {
        List<String> out = new ArrayList<>();
        while (Blocking.pull(s, "q") instanceof PullResult.Message m) {
            out.add(new String(m.payload(), java.nio.charset.StandardCharsets.UTF_8));
        }
        return out;
    }

    private static List<String> expected(int from, int to, int... without) {
        List<String> out = new ArrayList<>();
        outer:
        for (int i = from; i <= to; i++) {
            for (int w : without) {
                if (w == i) {
                    continue outer;
                }
            }
            out.add(msg(i));
        }
        return out;
    }

    @Test
    void aWriteFailureDuringARebuildShouldChangeNothingAndRefuseTheStart() throws IOException {
        fillAndTear();
        Faults.fail(Faults.Point.REBUILD_WRITE, 20);
        StoreException e = assertThrows(StoreException.class, () -> JournalQueueStore.open(config(dir)).close());
        assertTrue(e.getMessage().contains("rebuilding its damaged journal failed while writing the copy"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        Faults.clear();
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertEquals(expected(1, 89), drain(s), "every intact entry is still there");
        }
    }

    @Test
    void aCorruptEntryInMidCycleShouldBeSkippedAndCountedNotTakenAsTheEnd() throws IOException {
        Path cycle = fillAndTear();
        long at = CorruptionTest.offsetOf(cycle, "msg-000050|");
        byte[] all = Files.readAllBytes(cycle);
        all[(int) at + 4] ^= 0x20; // the payload no longer matches its checksum
        Files.write(cycle, all);
        try (LogCapture logs = new LogCapture(); JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertEquals(expected(1, 89, 50), drain(s), "the entries after the corrupt one are kept");
            assertTrue(logs.errors().stream().anyMatch(m -> m.contains("damaged entries skipped")), logs.errors().toString());
            assertEquals(PUSHED + 1, StoreTestSupport.storedId(Blocking.push(s, "q", bytes("after"))));
            assertEquals("after", text(Blocking.pull(s, "q")));
        }
    }
}
