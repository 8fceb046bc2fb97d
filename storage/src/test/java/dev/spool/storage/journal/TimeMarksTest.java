package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.MutableClock;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 22's start by time: the journal keeps when its messages were appended, to the second, so that a
 * subscription created or moved to {@code from_time} starts at the first message of that second or later (at most
 * a second early, never late), and a backlog's oldest message has an age.
 */
class TimeMarksTest {
    private static final long T0 = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();

    @TempDir
    Path dir;

    @Test
    void marksShouldFindTheFirstMessageOfASecondAndDateEachMessage() throws Exception {
        Map<Long, Long> firstIdOfSecond = new LinkedHashMap<>(); // second offset -> first id appended in it
        long id = 1;
        try (TimeMarks marks = TimeMarks.open(dir, "q")) {
            for (int s = 0; s < 40; s++) {
                if (s % 4 == 3) {
                    continue; // seconds with no push
                }
                firstIdOfSecond.put((long) s, id);
                for (int k = 0; k < 1 + s % 3; k++) { // several pushes in one second, some at its very end
                    marks.appended(id, T0 + s * 1000L + k * 400L);
                    id += 2 + k; // batches, and gaps between them
                }
            }
            marks.appended(id, T0 + 5_000); // the clock stepped back: no mark, the message counts with the last
            check(marks, firstIdOfSecond, id);
        }
        // Marks survive a restart; a torn tail (a half-written mark, a mark of zeros) is dropped at open.
        try (FileChannel ch = FileChannel.open(dir.resolve(TimeMarks.FILE), StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.allocate(16 + 7));
        }
        try (TimeMarks marks = TimeMarks.open(dir, "q")) {
            assertEquals(firstIdOfSecond.size(), marks.count(), "the torn tail is dropped");
            check(marks, firstIdOfSecond, id);
            marks.appended(id, T0 + 60_000);
            assertEquals(id, marks.firstIdAtOrAfter(T0 + 60_000), "marking goes on after the torn tail");
        }
    }

    private static void check(TimeMarks marks, Map<Long, Long> firstIdOfSecond, long end) throws Exception {
        for (long s = -1; s <= 41; s++) {
            long expected = -1;
            for (Map.Entry<Long, Long> e : firstIdOfSecond.entrySet()) {
                if (e.getKey() >= s) {
                    expected = e.getValue();
                    break;
                }
            }
            // Anywhere within the second: the first message of that second, or the next second with one.
            assertEquals(expected, marks.firstIdAtOrAfter(T0 + s * 1000 + 999), "from second " + s);
            assertEquals(expected, marks.firstIdAtOrAfter(T0 + s * 1000), "from second " + s);
        }
        long[] seconds = firstIdOfSecond.keySet().stream().mapToLong(Long::longValue).toArray();
        long[] ids = firstIdOfSecond.values().stream().mapToLong(Long::longValue).toArray();
        assertEquals(-1, marks.appendedAt(ids[0] - 1), "older than every mark: unknown");
        for (int i = 0; i < ids.length; i++) {
            long last = i + 1 < ids.length ? ids[i + 1] - 1 : end;
            for (long m = ids[i]; m <= last; m++) {
                assertEquals(T0 + seconds[i] * 1000, marks.appendedAt(m), "message " + m);
            }
        }
    }

    @Test
    void aQueueShouldDateItsPushesAndDropTheMarksOfDeletedJournalFiles() throws Exception {
        MutableClock clock = new MutableClock(Instant.ofEpochMilli(T0));
        StoreConfig c = config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock);
        Map<Long, Long> pushedAt = new LinkedHashMap<>(); // id -> ms
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(10_000));
            for (int sec = 0; sec < 30; sec++) {
                for (int k = 0; k < 3; k++) {
                    PushResult.Stored r = (PushResult.Stored) Blocking.push(s, "q", bytes("m" + sec + "." + k));
                    pushedAt.put(r.id(0), clock.millis());
                }
                clock.advance(Duration.ofSeconds(1));
            }
        }
        Path queueDir = dir.resolve("queues/q");
        try (TimeMarks marks = TimeMarks.open(queueDir, "q")) {
            assertEquals(30, marks.count(), "a mark per second with pushes");
            for (Map.Entry<Long, Long> e : pushedAt.entrySet()) {
                assertEquals(e.getValue() / 1000 * 1000, marks.appendedAt(e.getKey()), "message " + e.getKey());
            }
            assertEquals(3 * 10 + 1, marks.firstIdAtOrAfter(T0 + 10_500), "from the 11th second: its first message");
        }
        // Consumed messages' journal files are deleted; once their marks are most of the file, they go too.
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            for (int i = 0; i < 75; i++) {
                Blocking.pull(s, "q");
            }
        }
        try (TimeMarks marks = TimeMarks.open(queueDir, "q")) {
            assertTrue(marks.count() < 30, "marks of deleted files dropped: " + marks.count() + " left");
            for (long idLeft = 76; idLeft <= 90; idLeft++) {
                assertEquals(pushedAt.get(idLeft) / 1000 * 1000, marks.appendedAt(idLeft), "message " + idLeft);
            }
        }
    }
}
