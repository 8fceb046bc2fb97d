package dev.spool.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A tmpfs of a given size that a test mounts for itself (needs root, as CI runs): a real file system that
 * really fills up (shared with the broker tests through the test jar). A test that cannot mount one is skipped, saying why. Unmounted lazily on close: a
 * memory mapping lives until its buffer is collected and keeps a plain unmount busy.
 */
public final class SmallFileSystem implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SmallFileSystem.class);
    private final Path mountPoint;

    private SmallFileSystem(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    /** Mounts a tmpfs of {@code bytes} on a new folder {@code name} in {@code parent}, or skips the test. */
    public static SmallFileSystem mount(Path parent, String name, long bytes) throws Exception {
        String user = System.getProperty("user.name");
        if (!"root".equals(user)) {
            LOG.warn("skipping: mounting a tmpfs needs root, running as {}", user);
        }
        assumeTrue("root".equals(user), "mounting a tmpfs needs root, running as " + user);
        Path fs = Files.createDirectory(parent.resolve(name));
        String out;
        try {
            out = run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "tmpfs", fs.toString());
        } catch (IOException e) {
            out = e.toString();
        }
        if (out != null) {
            LOG.warn("skipping: cannot mount a tmpfs: {}", out);
        }
        assumeTrue(out == null, "cannot mount a tmpfs: " + out);
        return new SmallFileSystem(fs);
    }

    /** Remounts the file system with {@code options} (for example {@code ro} or {@code rw}); null, or what failed. */
    public String remount(String options) throws IOException, InterruptedException {
        return run("mount", "-o", "remount," + options, mountPoint.toString());
    }

    public Path path() {
        return mountPoint;
    }

    public long usable() throws IOException {
        return Files.getFileStore(mountPoint).getUsableSpace();
    }

    @Override
    public void close() throws IOException {
        String failed;
        try {
            failed = run("umount", "-l", mountPoint.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed = "interrupted";
        }
        if (failed != null) {
            LOG.error("cannot unmount the test tmpfs: {}", failed);
        }
    }

    /** Null if the command succeeded, else what it said. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", command) + " did not finish";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return p.exitValue() == 0 ? null : String.join(" ", command) + ": exit " + p.exitValue() + " " + out;
    }
}
