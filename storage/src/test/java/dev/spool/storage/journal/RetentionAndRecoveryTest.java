package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.Message;
import dev.spool.storage.MutableClock;
import dev.spool.storage.PullResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetentionAndRecoveryTest {
    @TempDir
    Path dir;

    private static long cycleFiles(Path journal) throws IOException {
        try (Stream<Path> files = Files.list(journal)) {
            return files.filter(p -> p.toString().endsWith(".cq4")).count();
        }
    }

    @Test
    void journalFilesWhollyBehindTheCursorShouldBeDeleted() throws IOException {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        StoreConfig c = config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock);
        Path journal = dir.resolve("queues/q/journal");
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            for (int i = 1; i <= 10; i++) {
                Blocking.push(s, "q", bytes("m" + i));
                clock.advance(Duration.ofSeconds(1));
            }
            assertEquals(10, cycleFiles(journal));
            for (int i = 1; i <= 6; i++) {
                assertEquals("m" + i, text(Blocking.pull(s, "q")));
            }
            // Files of messages 1-5 are wholly consumed; message 6's file holds the cursor and stays.
            assertEquals(5, cycleFiles(journal));
        }
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            for (int i = 7; i <= 10; i++) {
                assertEquals("m" + i, text(Blocking.pull(s, "q")));
            }
            assertEquals(1, cycleFiles(journal));
        }
    }

    @Test
    void diskUseShouldStayBoundedWhenConsumersKeepUp() throws IOException {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        StoreConfig c = config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock);
        byte[] payload = new byte[4096];
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(1000));
            List<Long> usage = new ArrayList<>();
            for (int round = 0; round < 30; round++) {
                for (int i = 0; i < 200; i++) {
                    Blocking.push(s, "q", payload);
                    Blocking.pull(s, "q");
                }
                clock.advance(Duration.ofSeconds(1));
                usage.add(Blocking.stats(s, "q").orElseThrow().bytesOnDisk());
            }
            assertTrue(cycleFiles(dir.resolve("queues/q/journal")) <= 2);
            long late = usage.get(usage.size() - 1);
            assertTrue(late < 200L * 4096 * 3, "disk use should stay near one or two cycles, was " + usage);
        }
    }

    @Test
    @Timeout(300)
    void recoveryWithMillionMessageBacklogShouldNotReadTheBacklog() {
        int total = 1_000_000;
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            s.create("q", QueueOptions.ofMaxLength(2 * total));
            List<byte[]> batch = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                batch.add(new byte[32]);
            }
            for (int i = 0; i < total / 1000; i++) {
                Blocking.pushBatch(s, "q", batch);
            }
            for (int i = 0; i < 10; i++) {
                Blocking.pull(s, "q");
            }
        }
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertEquals(total - 10, Blocking.stats(s, "q").orElseThrow().depth());
            assertEquals(total, Blocking.stats(s, "q").orElseThrow().totalPushed());
            assertTrue(s.entriesReadAtOpen("q") <= 2, "read " + s.entriesReadAtOpen("q") + " entries at open");
            assertEquals(11, ((PullResult.Message) Blocking.pull(s, "q")).id());
        }
    }
}
