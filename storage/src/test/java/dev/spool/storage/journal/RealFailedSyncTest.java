package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Fsync;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A sync that really fails: the store runs on a FUSE file system ({@code failing_fs.py}) whose fsync and msync the
 * kernel answers with EIO while a flag file exists. Under {@code fsync: always} the pull whose sync failed is
 * delivered again after the restart, the queue refuses changes meanwhile, and nothing acknowledged is lost.
 * Needs root, /dev/fuse and Debian's python3-fusepy ({@code .ci/run} installs it); skipped, saying why, without.
 */
@Timeout(120)
class RealFailedSyncTest {
    private static final Logger LOG = LoggerFactory.getLogger(RealFailedSyncTest.class);
    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path dir;
    private Process fuse;
    private Path mount;

    private static String skipReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "mounting a FUSE file system needs root";
        }
        if (!Files.exists(Path.of("/dev/fuse"))) {
            return "no /dev/fuse";
        }
        if (!Files.exists(Path.of("/usr/lib/python3/dist-packages/fusepy.py"))) {
            return "Debian's python3-fusepy is not installed";
        }
        return null;
    }

    private void mount(Path backing, Path flag) throws Exception {
        Path script = dir.resolve("failing_fs.py");
        try (InputStream in = RealFailedSyncTest.class.getResourceAsStream("failing_fs.py")) {
            Files.copy(in, script);
        }
        mount = Files.createDirectories(dir.resolve("mnt"));
        fuse = new ProcessBuilder(PYTHON, script.toString(), backing.toString(), mount.toString(), flag.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("fuse.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.readString(Path.of("/proc/mounts")).contains(" " + mount + " fuse")) {
            assertTrue(fuse.isAlive(), "the FUSE file system died: " + Files.readString(dir.resolve("fuse.log")));
            assertTrue(System.nanoTime() < deadline, "the FUSE file system was not mounted in 20 s");
            Thread.onSpinWait();
        }
    }

    @AfterEach
    void unmount() throws Exception {
        if (mount != null) {
            new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor(20, TimeUnit.SECONDS);
        }
        if (fuse != null) {
            fuse.destroy();
            fuse.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void aPullWhoseRealSyncFailsShouldBeDeliveredAgainAndThePushesKept() throws Exception {
        String why = skipReason();
        if (why != null) {
            LOG.warn("skipping: {}", why);
        }
        assumeTrue(why == null, why);
        Path backing = Files.createDirectories(dir.resolve("backing"));
        Path flag = dir.resolve("fail-syncs");
        mount(backing, flag);
        StoreConfig config = StoreConfig.defaults(mount.resolve("queues.json"))
                .withFsync(Fsync.ALWAYS, StoreConfig.DEFAULT_FSYNC_INTERVAL);
        try (JournalQueueStore s = JournalQueueStore.open(config)) {
            s.create("q", QueueOptions.ofMaxLength(100));
            for (String m : new String[]{"a", "b", "c"}) {
                assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "q", bytes(m)));
            }
            assertEquals("a", text(Blocking.pull(s, "q")));
            Files.createFile(flag); // the disk stops writing
            StoreException failed = assertThrows(StoreException.class, () -> Blocking.pull(s, "q"));
            assertEquals(StoreException.Code.SYNC_FAILED, failed.code(), failed.getMessage());
            assertEquals(StoreException.Code.QUEUE_FAILED,
                    assertThrows(StoreException.class, () -> Blocking.push(s, "q", bytes("d"))).code());
            assertTrue(s.failedQueues().containsKey("q"));
            Files.delete(flag); // the disk is back; the queue stays stopped until the restart re-checks it
        }
        try (JournalQueueStore s = JournalQueueStore.open(config)) {
            assertTrue(s.failedQueues().isEmpty());
            assertEquals("b", text(Blocking.pull(s, "q")), "the pull whose sync failed lost nothing");
            assertEquals("c", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
        assertTrue(!Files.readString(dir.resolve("fuse.log"), StandardCharsets.UTF_8).contains("Traceback"),
                "the FUSE file system failed: " + Files.readString(dir.resolve("fuse.log")));
    }

}
