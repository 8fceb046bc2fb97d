package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.LogCapture;
import dev.spool.storage.PullResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a restart after an unclean stop or a power loss says, and what a create makes durable first. */
@Timeout(60)
class UncleanRestartTest {
    @TempDir
    Path dir;

    @AfterEach
    void disarm() {
        Faults.clear();
    }

    @Test
    void aRestartAfterAnUncleanStopShouldLogNoErrorWhenNothingIsWrong() throws IOException {
        Path crashed = dir.resolve("crashed");
        Path live = dir.resolve("live");
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(live))) {
            s.create("q", QueueOptions.ofMaxLength(100));
            for (String m : List.of("a", "b", "c")) {
                Blocking.push(s, "q", bytes(m));
            }
            assertEquals("a", text(Blocking.pull(s, "q")));
            StoreTestSupport.copyTree(live, crashed); // as kill -9 would leave them: the id reservation ran ahead
        }
        try (LogCapture logs = new LogCapture();
             JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(crashed))) {
            assertEquals("b", text(Blocking.pull(s, "q")));
            assertEquals("c", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
            assertTrue(logs.errors().isEmpty(), "nothing is wrong, nothing is an error: " + logs.errors());
            assertTrue(logs.warnings().stream().anyMatch(m -> m.contains("did not stop cleanly")), logs.warnings().toString());
        }
    }

    @Test
    void aCreateShouldBeAnsweredOnlyOnceEveryFileOfTheQueueIsDurable() throws IOException {
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(dir))) {
            Faults.recordSyncs();
            s.create("q", QueueOptions.ofMaxLength(100));
            Set<Path> synced = Faults.synced();
            Path q = dir.resolve(JournalQueueStore.QUEUES_DIR).resolve("q");
            try (Stream<Path> all = Files.walk(q)) {
                for (Path p : (Iterable<Path>) all::iterator) {
                    assertTrue(synced.contains(p.toAbsolutePath().normalize()), p + " was not forced before the create "
                            + "was answered");
                }
            }
            assertTrue(synced.contains(q.resolve("journal").resolve(ChronicleFolder.METADATA_FILE).toAbsolutePath()
                    .normalize()));
        }
    }

    @Test
    void anEmptyChronicleMetadataFileShouldBeRebuiltWithoutAnError() throws IOException {
        try (JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(dir))) {
            s.create("q", QueueOptions.ofMaxLength(100));
            Blocking.push(s, "q", bytes("kept"));
        }
        Path q = dir.resolve(JournalQueueStore.QUEUES_DIR).resolve("q");
        for (String folder : List.of("journal", "state")) {
            Files.write(q.resolve(folder).resolve(ChronicleFolder.METADATA_FILE), new byte[0]); // as a power loss left it
        }
        try (LogCapture logs = new LogCapture();
             JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(dir))) {
            assertEquals("kept", text(Blocking.pull(s, "q")));
            assertTrue(logs.errors().isEmpty(), "a rebuilt metadata file is no error: " + logs.errors());
        }
    }
}
