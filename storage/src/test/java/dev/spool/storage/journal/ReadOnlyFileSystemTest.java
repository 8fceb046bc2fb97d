package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.ChildJvm;
import dev.spool.storage.SmallFileSystem;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A data folder on a file system remounted read-only between two runs (Linux refuses {@code remount,ro} while a
 * file is open for writing, and a running store always holds its files so, so this is the read-only fault a store
 * meets for real): the start is refused with one clear line that names the folder, nothing is changed, and once the
 * file system is writable again the store opens with every message.
 */
@Timeout(60)
class ReadOnlyFileSystemTest {
    @TempDir
    Path dir;

    @Test
    void aStartOnAReadOnlyFileSystemShouldBeRefusedClearlyAndChangeNothing() throws Exception {
        try (SmallFileSystem fs = SmallFileSystem.mount(dir, "fs", 64L << 20)) {
            Path data = fs.path().resolve("data");
            StoreConfig config = StoreConfig.defaults(data.resolve("queues.json")).withMinFreeBytes(0);
            // Written by another process: this JVM keeps no mapping open that would make the remount busy.
            Process fill = new ProcessBuilder(ChildJvm.command(CrashPointWorker.class.getName(), data.toString(), "fill"))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            assertTrue(fill.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, fill.exitValue());
            assertNull(fs.remount("ro"));
            try {
                StoreException e = assertThrows(StoreException.class, () -> JournalQueueStore.open(config).close());
                assertTrue(e.getMessage().contains(data.toString()), e.getMessage());
                assertTrue(e.getMessage().contains("Read-only file system"), e.getMessage());
                assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            } finally {
                assertNull(fs.remount("rw"));
            }
            try (JournalQueueStore s = JournalQueueStore.open(config)) {
                assertEquals("kept", text(Blocking.pull(s, "q")));
            }
        }
    }
}
