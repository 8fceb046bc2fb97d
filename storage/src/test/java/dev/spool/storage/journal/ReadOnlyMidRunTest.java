package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.ChildJvm;
import dev.spool.storage.PullResult;
import dev.spool.storage.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The file system goes read-only mid-run, for real: an ext4 file system in a loop-mounted image, mounted with
 * {@code errors=remount-ro}, is told to fail ({@code /sys/fs/ext4/DEV/trigger_fs_error}) while a child JVM's store
 * runs on it under {@code fsync: always}. The pull whose sync then fails is told so, the queue stops, and after the
 * file system is checked and mounted again the message of that pull is delivered again and nothing is lost.
 * Needs root and loop devices; skipped, saying why, without.
 */
@Timeout(180)
class ReadOnlyMidRunTest {
    private static final Logger LOG = LoggerFactory.getLogger(ReadOnlyMidRunTest.class);

    @TempDir
    Path dir;
    private Path mount;

    /** Runs a command; null if it succeeded (or exited with one of {@code ok}), else what it said. */
    private static String run(List<Integer> ok, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + " did not finish";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return ok.contains(p.exitValue()) ? null : String.join(" ", command) + ": exit " + p.exitValue() + " " + out;
    }

    private static String run(String... command) throws IOException, InterruptedException {
        return run(List.of(0), command);
    }

    @AfterEach
    void unmount() throws Exception {
        if (mount != null && Files.readString(Path.of("/proc/mounts")).contains(" " + mount + " ")) {
            run("umount", "-l", mount.toString());
        }
    }

    @Test
    void aFileSystemGoingReadOnlyMidRunShouldLoseNothingAndRedeliverTheFailedPull() throws Exception {
        String user = System.getProperty("user.name");
        String why = "root".equals(user) ? null : "mounting a loop file system needs root, running as " + user;
        Path image = dir.resolve("fs.img");
        if (why == null) {
            why = run("truncate", "-s", "256M", image.toString());
        }
        if (why == null) {
            why = run("mkfs.ext4", "-q", image.toString());
        }
        mount = Files.createDirectories(dir.resolve("mnt"));
        if (why == null) {
            why = run("mount", "-o", "loop,errors=remount-ro", image.toString(), mount.toString());
        }
        String device = null;
        if (why == null) {
            device = Files.readAllLines(Path.of("/proc/mounts")).stream().filter(l -> l.contains(" " + mount + " "))
                    .map(l -> Path.of(l.split(" ")[0]).getFileName().toString()).findFirst().orElse(null);
            if (device == null || !Files.exists(Path.of("/sys/fs/ext4", device, "trigger_fs_error"))) {
                why = "this kernel's ext4 has no trigger_fs_error for " + device;
            }
        }
        if (why != null) {
            LOG.warn("skipping: {}", why);
        }
        assumeTrue(why == null, why);

        Path data = mount.resolve("data");
        Process child = new ProcessBuilder(ChildJvm.command(CrashPointWorker.class.getName(), data.toString(), "rofs",
                Path.of("/sys/fs/ext4", device, "trigger_fs_error").toString()))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        List<String> out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertEquals(Faults.HALT_STATUS, child.exitValue(), "the child ran to its end: " + out);
        assertEquals("pull a", out.get(0), out.toString());
        assertEquals("pull SYNC_FAILED", out.get(1), "the pull whose sync failed is told so: " + out);
        assertEquals("push QUEUE_FAILED", out.get(2), "then the queue takes no changes: " + out);
        assertEquals("failed [q]", out.get(3));
        String options = Files.readAllLines(Path.of("/proc/mounts")).stream()
                .filter(l -> l.contains(" " + mount + " ")).map(l -> l.split(" ")[3]).findFirst().orElse("");
        assertTrue(options.startsWith("ro") || options.contains("emergency_ro"), "the file system went read-only: "
                + options);

        // An operator's way back: unmount, check, mount again.
        assertEquals(null, run("umount", mount.toString()));
        assertEquals(null, run(List.of(0, 1), "e2fsck", "-fy", image.toString()));
        assertEquals(null, run("mount", "-o", "loop", image.toString(), mount.toString()));
        try (JournalQueueStore s = JournalQueueStore.open(StoreConfig.defaults(data.resolve("queues.json"))
                .withMinFreeBytes(0))) {
            assertEquals("b", text(Blocking.pull(s, "q")), "the pull whose sync failed lost nothing");
            assertEquals("c", text(Blocking.pull(s, "q")));
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }
}
