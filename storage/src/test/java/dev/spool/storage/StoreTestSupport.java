package dev.spool.storage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Shared helpers of the storage tests. */
public final class StoreTestSupport {
    private StoreTestSupport() {
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String text(PullResult r) {
        if (!(r instanceof PullResult.Message m)) {
            throw new AssertionError("expected a message, got " + r);
        }
        return new String(m.payload(), StandardCharsets.UTF_8);
    }

    public static StoreConfig config(Path dir) {
        return StoreConfig.defaults(dir.resolve("queues.json"));
    }

    /**
     * Copies a store's folder as it is now, while the store is open: the files as a kill -9 at this moment would
     * leave them (memory-mapped writes are in the page cache, which the copy reads).
     */
    public static void copyTree(Path from, Path to) throws java.io.IOException {
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (java.nio.file.Files.isDirectory(p)) {
                    java.nio.file.Files.createDirectories(target);
                } else {
                    java.nio.file.Files.copy(p, target);
                }
            }
        }
    }

    public static long storedId(PushResult r) {
        if (!(r instanceof PushResult.Stored s)) {
            throw new AssertionError("expected stored, got " + r);
        }
        return s.firstId();
    }
}
