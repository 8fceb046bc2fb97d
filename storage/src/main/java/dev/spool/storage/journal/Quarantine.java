package dev.spool.storage.journal;

import dev.spool.storage.AtomicFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Where a queue keeps damaged files it recovered around, for inspection: folders named
 * {@code <what>.damaged-<epoch ms>} in the queue's folder. Only the newest {@link #KEEP} are kept, so
 * repeated unclean restarts cannot fill the disk; older ones are deleted with a log line.
 */
final class Quarantine {
    private static final Logger LOG = LoggerFactory.getLogger(Quarantine.class);
    /** Damaged copies kept per queue: enough to inspect the latest incidents, bounded in disk use. */
    static final int KEEP = 3;
    private static final String MARK = ".damaged-";

    private final Path queueDir;
    private final Clock clock;

    Quarantine(Path queueDir, Clock clock) {
        this.queueDir = queueDir;
        this.clock = clock;
    }

    /** A fresh, not yet existing folder for a damaged copy of {@code what} (for example "journal"). */
    Path newFolder(String what) {
        long t = clock.millis();
        Path p = queueDir.resolve(what + MARK + t);
        while (Files.exists(p)) {
            p = queueDir.resolve(what + MARK + ++t);
        }
        return p;
    }

    /** Moves one damaged file into a new quarantine folder of its own folder's name; returns where. */
    Path setAside(Path file) throws IOException {
        Path into = newFolder(file.getParent().getFileName().toString());
        Files.createDirectories(into);
        Path target = into.resolve(file.getFileName());
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.syncDirectory(file.getParent());
        prune();
        return target;
    }

    /** The damaged copies kept now, oldest first. */
    List<Path> kept() {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(queueDir, "*" + MARK + "*")) {
            dirs.forEach(out::add);
        } catch (IOException e) {
            LOG.warn("could not list damaged copies in {}: {}", queueDir, e.toString());
        }
        out.sort(Comparator.comparingLong(Quarantine::time));
        return out;
    }

    /** Deletes all but the newest {@link #KEEP} damaged copies. */
    void prune() {
        List<Path> all = kept();
        for (int i = 0; i < all.size() - KEEP; i++) {
            Path old = all.get(i);
            try {
                FileTrees.delete(old);
                LOG.warn("deleted the damaged copy {} (only the newest {} are kept)", old, KEEP);
            } catch (IOException e) {
                LOG.warn("could not delete the damaged copy {}: {}", old, e.toString());
            }
        }
    }

    private static long time(Path p) {
        String n = p.getFileName().toString();
        try {
            return Long.parseLong(n.substring(n.lastIndexOf(MARK) + MARK.length()));
        } catch (NumberFormatException e) {
            return Long.MIN_VALUE;
        }
    }
}
