package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Message;
import dev.spool.storage.PullResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.storedId;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Defect 12: an id answered once never names another message, even when a power cut under
 * {@code fsync: none} loses the journal's tail. The cut is imitated by reopening a copy of the data
 * folder taken earlier, while the broker ran on (what the disk held when the power went).
 */
@Timeout(60)
class IdReuseTest {
    @TempDir
    Path dir;

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("spool.lock")) {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    void idsAnsweredBeforeAPowerCutShouldNeverBeGivenToOtherMessages() throws IOException {
        Path live = dir.resolve("live");
        Path cut = dir.resolve("cut");
        long lastAnswered;
        JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(live));
        try {
            s.create("q", QueueOptions.ofMaxLength(100));
            Blocking.push(s, "q", bytes("m1"));
            Blocking.push(s, "q", bytes("m2"));
            copyTree(live, cut); // what reached the disk before the cut
            Blocking.push(s, "q", bytes("m3"));
            lastAnswered = storedId(Blocking.push(s, "q", bytes("m4")));
        } finally {
            s.close();
        }
        assertEquals(4, lastAnswered);
        try (JournalQueueStore after = JournalQueueStore.open(StoreTestSupport.config(cut))) {
            long id = storedId(Blocking.push(after, "q", bytes("new")));
            assertTrue(id > lastAnswered, "id " + id + " was answered before the cut for another message");
            assertEquals(3, Blocking.stats(after, "q").orElseThrow().depth(), "skipped ids are not messages");
            assertEquals(3, Blocking.stats(after, "q").orElseThrow().totalPushed());
            assertEquals("m1", text(Blocking.pull(after, "q")));
            assertEquals("m2", text(Blocking.pull(after, "q")));
            PullResult.Message m = (PullResult.Message) Blocking.pull(after, "q");
            assertEquals(id, m.id());
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(after, "q"));
            assertEquals(0, Blocking.stats(after, "q").orElseThrow().depth());
        }
        try (JournalQueueStore again = JournalQueueStore.open(StoreTestSupport.config(cut))) {
            assertEquals(0, Blocking.stats(again, "q").orElseThrow().depth(), "the gap is remembered across restarts");
        }
    }

    @Test
    void repeatedUncleanStopsShouldSkipAboveEveryEarlierGap() throws IOException {
        Path live = dir.resolve("live");
        Path crash1 = dir.resolve("crash1");
        Path crash2 = dir.resolve("crash2");
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(live))) {
            s.create("q", QueueOptions.ofMaxLength(100));
            Blocking.push(s, "q", bytes("a"));
            copyTree(live, crash1); // a kill -9 image: the store was never closed
        }
        long first;
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(crash1))) {
            first = storedId(Blocking.push(s, "q", bytes("b")));
            assertTrue(first > 2);
            assertEquals("a", text(Blocking.pull(s, "q")));
            copyTree(crash1, crash2);
        }
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(crash2))) {
            assertEquals(1, Blocking.stats(s, "q").orElseThrow().depth(), "only b is stored");
            long second = storedId(Blocking.push(s, "q", bytes("c")));
            assertTrue(second > first, second + " after " + first);
            assertEquals(2, Blocking.stats(s, "q").orElseThrow().depth());
            assertEquals("b", text(Blocking.pull(s, "q")));
            assertEquals("c", text(Blocking.pull(s, "q")));
            assertEquals(0, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }

    @Test
    void aCleanRestartShouldContinueRightAfterTheLastId() {
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(dir))) {
            s.create("q", QueueOptions.ofMaxLength(100));
            Blocking.push(s, "q", bytes("a"));
            Blocking.push(s, "q", bytes("b"));
        }
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(dir))) {
            assertEquals(3, storedId(Blocking.push(s, "q", bytes("c"))));
            assertEquals(3, Blocking.stats(s, "q").orElseThrow().depth());
        }
    }
}
