package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.ChildJvm;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.config;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataDirLockTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void secondStoreOnTheSameFolderShouldBeRefusedAsLockedUntilTheFirstCloses() throws Exception {
        long pid = ProcessHandle.current().pid();
        try (JournalQueueStore first = JournalQueueStore.open(config(dir))) {
            first.create("q", QueueOptions.ofMaxLength(10));
            Blocking.push(first, "q", bytes("kept"));

            StoreException e = assertThrows(StoreException.class, () -> JournalQueueStore.open(config(dir)));

            assertEquals(StoreException.Code.LOCKED, e.code());
            assertTrue(e.getMessage().contains(dir.toRealPath().toString()), e.getMessage());
            assertTrue(e.getMessage().contains("pid " + pid), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            Blocking.push(first, "q", bytes("after the refusal"));
        }
        try (JournalQueueStore second = JournalQueueStore.open(config(dir))) {
            assertEquals("kept", text(Blocking.pull(second, "q")));
            assertEquals("after the refusal", text(Blocking.pull(second, "q")));
        }
    }

    @Test
    @Timeout(60)
    void lockFileShouldHoldTheHolderPid() throws Exception {
        JournalQueueStore s = JournalQueueStore.open(config(dir));
        try {
            assertEquals(Long.toString(ProcessHandle.current().pid()),
                    Files.readString(dir.resolve(DataDirLock.FILE), StandardCharsets.US_ASCII).trim());
        } finally {
            s.close();
        }
    }

    @Test
    @Timeout(60)
    void closeShouldBeIdempotentAndFreeTheFolder() throws Exception {
        DataDirLock lock = DataDirLock.acquire(dir);
        lock.close();
        lock.close();
        try (DataDirLock again = DataDirLock.acquire(dir)) {
            assertEquals(dir.toRealPath(), again.directory());
        }
    }

    @Test
    @Timeout(120)
    void anotherProcessShouldBeRefusedWithTheHolderPidEvenAfterARefusalInTheHolder() throws Exception {
        JournalQueueStore s = JournalQueueStore.open(config(dir));
        try {
            // A refused open in the holder must not drop the holder's lock (on Linux, closing any channel
            // of a locked file drops the process's lock on it).
            assertThrows(StoreException.class, () -> JournalQueueStore.open(config(dir)));

            String out = probe();

            assertTrue(out.startsWith("LOCKED "), out);
            assertTrue(out.contains("in use by another Spool process (pid " + ProcessHandle.current().pid() + ")"), out);
        } finally {
            s.close();
        }
        assertTrue(probe().startsWith("ACQUIRED "), "closing the store frees the folder");
    }

    private String probe() throws Exception {
        Process p = new ProcessBuilder(ChildJvm.command(LockProbe.class.getName(), dir.toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe should finish");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }
}
