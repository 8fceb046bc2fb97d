package dev.spool.storage.journal;

import dev.spool.storage.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removing a folder and everything in it, and making a whole folder durable. */
final class FileTrees {
    private FileTrees() {
    }

    /** Deletes {@code root} and its contents, children first; nothing if it does not exist. */
    static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Forces one file, its contents and metadata, to the disk. */
    static void force(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
        Faults.synced(file);
    }

    /**
     * Forces every file and folder under {@code root} (and {@code root} itself) to the disk, files first and the
     * deepest folders before their parents: after it returns, a power loss leaves the tree as it is now.
     */
    static void sync(Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> files = Files.walk(root)) {
            all = files.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : all) {
            if (Files.isRegularFile(p)) {
                force(p);
            }
        }
        for (Path p : all) {
            if (Files.isDirectory(p)) {
                AtomicFile.syncDirectory(p);
                Faults.synced(p);
            }
        }
    }
}
