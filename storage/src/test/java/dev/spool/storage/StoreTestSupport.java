package dev.spool.storage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Shared helpers of the storage tests. */
final class StoreTestSupport {
    private StoreTestSupport() {
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(PullResult r) {
        if (!(r instanceof PullResult.Message m)) {
            throw new AssertionError("expected a message, got " + r);
        }
        return new String(m.payload(), StandardCharsets.UTF_8);
    }

    static StoreConfig config(Path dir) {
        return StoreConfig.defaults(dir.resolve("queues.json"));
    }

    static long storedId(PushResult r) {
        if (!(r instanceof PushResult.Stored s)) {
            throw new AssertionError("expected stored, got " + r);
        }
        return s.firstId();
    }
}
