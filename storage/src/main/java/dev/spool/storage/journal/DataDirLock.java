package dev.spool.storage.journal;

import dev.spool.storage.StoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An exclusive lock on a data folder, held from before recovery until the store is closed, so two
 * brokers never write one folder. The lock is {@value #FILE} in the folder, locked with
 * {@link FileChannel#tryLock()} and holding the holder's pid for the refusal message. The operating
 * system drops the lock when the process dies (even by {@code kill -9}), so a stale file never blocks a
 * restart. Thread-safe; {@link #close()} is idempotent.
 */
final class DataDirLock implements AutoCloseable {
    static final String FILE = "spool.lock";

    /*
     * Folders locked by this JVM. File locks belong to the process: a second tryLock in the same JVM
     * throws, and on Linux closing ANY channel of the file drops the process's lock. So a folder this JVM
     * already holds is refused here, without opening its lock file again.
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean closed;

    private DataDirLock(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code dir}, creating it if needed.
     *
     * @throws StoreException {@link StoreException.Code#LOCKED} if another process or another store in
     *                        this JVM holds it; {@link StoreException.Code#IO} if the lock file cannot be used
     */
    static DataDirLock acquire(Path dir) {
        Path real;
        try {
            Files.createDirectories(dir);
            real = dir.toRealPath();
        } catch (IOException e) {
            throw StoreException.of("locking data folder " + dir, e, dir);
        }
        long self = ProcessHandle.current().pid();
        if (!HELD.add(real)) {
            throw locked(real, "is already open in this process (pid " + self + ")");
        }
        FileChannel ch = null;
        try {
            // Not truncated on open: until we hold the lock, the pid in the file is the holder's.
            ch = FileChannel.open(real.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String holder = readPid(ch);
                ch.close();
                HELD.remove(real);
                throw locked(real, "is in use by another Spool process (pid " + holder + ")");
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((self + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            return new DataDirLock(real, ch, lock);
        } catch (IOException e) {
            closeQuietly(ch);
            HELD.remove(real);
            throw StoreException.of("locking data folder " + real, e, real);
        }
    }

    private static StoreException locked(Path dir, String why) {
        return new StoreException(StoreException.Code.LOCKED,
                "data folder " + dir + " " + why + "; stop it first or use another data folder", null);
    }

    /** The pid the holder wrote, or "unknown" if it has not written it yet (it locks, then writes). */
    private static String readPid(FileChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(32);
        ch.read(buf, 0);
        String s = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
        return s.matches("[0-9]{1,19}") ? s : "unknown";
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // Already failing; the first error is the one reported.
            }
        }
    }

    /** The locked folder (its real path). */
    Path directory() {
        return dir;
    }

    /**
     * Releases the lock. The file stays: were it deleted, a process that had just opened it could lock
     * the deleted file while a third one creates and locks a new one, and both would run.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            lock.release();
        } catch (IOException ignored) {
            // Closing the channel below releases it too.
        }
        closeQuietly(channel);
        HELD.remove(dir);
    }
}
