package dev.spool.storage.journal;

import dev.spool.storage.StoreException;
import java.nio.file.Path;

/** Child JVM for {@link DataDirLockTest}: tries to lock the folder once and prints the outcome. */
public final class LockProbe {
    private LockProbe() {
    }

    public static void main(String[] args) {
        try (DataDirLock lock = DataDirLock.acquire(Path.of(args[0]))) {
            System.out.println("ACQUIRED " + lock.directory());
        } catch (StoreException e) {
            System.out.println(e.code() + " " + e.getMessage());
        }
    }
}
