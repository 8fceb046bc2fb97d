package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.ChildJvm;
import dev.spool.storage.LogCapture;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGBUS for real: in a child JVM, the journal's cycle file is truncated under the store's mapping (as another
 * program or a broken disk could), so the next append touches a page no file backs. The JVM survives (the fault
 * becomes an error), the push is answered as not stored, the queue then refuses changes at once (no push waits
 * on the lock the faulted append left), other queues go on; a restart recovers around the damage, saying so, and
 * uses no id answered before.
 */
@Timeout(120)
class TruncatedMappingTest {
    @TempDir
    Path dir;

    @Test
    void aPushIntoATruncatedMappingShouldFailCleanlyAndTheRestartRecover() throws Exception {
        Process child = new ProcessBuilder(ChildJvm.command(CrashPointWorker.class.getName(), dir.toString(), "sigbus"))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        List<String> out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertEquals(Faults.HALT_STATUS, child.exitValue(), "the JVM survived the fault: " + out);
        assertTrue(out.get(0).startsWith("after-1 IO ") || out.get(0).startsWith("after-1 DISK_FULL "), out.get(0));
        String[] second = out.get(1).split(" ");
        assertEquals("QUEUE_FAILED", second[1], out.get(1));
        assertTrue(Long.parseLong(second[2]) < 5_000, "refused at once, not after a lock timeout: " + out.get(1));
        assertEquals("other Stored", out.get(2));
        assertEquals("failed [q]", out.get(3));
        try (LogCapture logs = new LogCapture();
             JournalQueueStore s = JournalQueueStore.open(StoreTestSupport.config(dir))) {
            assertFalse(logs.errors().isEmpty(), "the damage is reported");
            assertEquals("kept", text(Blocking.pull(s, "other")));
            assertEquals("still", text(Blocking.pull(s, "other")));
            long id = StoreTestSupport.storedId(Blocking.push(s, "q", bytes("new")));
            assertTrue(id > 2, "no id answered before the damage is used again, was " + id);
            assertEquals("new", text(Blocking.pull(s, "q")));
        }
    }
}
