package dev.spool.storage;

import net.openhft.chronicle.core.io.IORuntimeException;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** A failure of the storage engine, classified by a stable {@link Code}. */
public final class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Below this much usable space, an I/O failure of the store is taken for a full disk. A write refused
     * for space leaves less than a block free (a page, for a fault in a memory-mapped journal); the margin
     * covers file systems that refuse a little early (reservations, preallocation), and a store with less
     * than this left cannot go on anyway.
     */
    static final long LOW_SPACE_BYTES = 8L << 20;
    /** How deep a cause chain is followed (chains can be cyclic). */
    private static final int MAX_CAUSES = 32;

    /** What went wrong. */
    public enum Code {
        /** The disk (or the quota) is full; nothing was stored. */
        DISK_FULL,
        /** Any other I/O failure. */
        IO,
        /**
         * A sync of the queue's files failed while this call waited for it: its outcome is unknown (a push may
         * have been stored: retry it with the same idempotency key after the restart; a pull or ack was undone).
         */
        SYNC_FAILED,
        /** The queue takes no changes since a sync of its files failed; nothing was changed; restart to re-check. */
        QUEUE_FAILED,
        /** Briefly unable to take the request (ids are being reserved); nothing was stored; retry. */
        BUSY,
        /** The store was used after {@link QueueStore#close()}. */
        CLOSED,
        /** The data folder is held by another process (or another store in this one); nothing was opened. */
        LOCKED,
        /**
         * The engine under a distributed store did not answer in time; the request's outcome is unknown (a
         * push may have been stored).
         */
        UNAVAILABLE,
        /**
         * The engine under a distributed store did not confirm an acknowledgement (a pull's, an ack's or a nack's):
         * it may or may not have been applied, so a pull may have taken its messages and an ack may have landed.
         */
        UNCONFIRMED
    }

    private final Code code;

    public StoreException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }

    /**
     * Classifies an I/O failure once, at the storage boundary, when the failing path is not at hand: the
     * space is checked where a {@link FileSystemException} in the chain names its file, if any.
     */
    static StoreException of(String what, Throwable cause) {
        return of(what, cause, null);
    }

    /**
     * Classifies an I/O failure once, at the storage boundary, the way Aeron's archive does: by the type
     * of the failure and the space left on the file system holding {@code where} (a file or folder of the
     * store; it need not exist yet). Public so that the broker classifies failures of its own files (the
     * tokens file) the same way.
     */
    public static StoreException of(String what, Throwable cause, Path where) {
        if (cause instanceof StoreException s) {
            return s; // classified already, nearer the failure
        }
        return new StoreException(classify(cause, where), what + ": " + cause, cause);
    }

    public static Code classify(Throwable cause, Path where) {
        Throwable io = null;
        Path named = null;
        int depth = 0;
        for (Throwable c = cause; c != null && depth < MAX_CAUSES; c = c.getCause(), depth++) {
            // InternalError: the JVM's report of a SIGBUS, a page of a memory-mapped file the disk could not back.
            if (io == null && (c instanceof IOException || c instanceof InternalError
                    || c instanceof IORuntimeException)) {
                io = c;
            }
            if (named == null && c instanceof FileSystemException f && f.getFile() != null) {
                named = pathOf(f.getFile());
            }
        }
        Path at = where != null ? where : named;
        if (io != null && at != null) {
            long usable = usableSpace(at);
            if (usable >= 0 && usable < LOW_SPACE_BYTES) {
                return Code.DISK_FULL;
            }
        }
        // Last resort, the operating system's words: free space cannot show a user's quota (EDQUOT) or
        // a file system out of inodes (ENOSPC with bytes free), nor help a caller that has no path.
        depth = 0;
        for (Throwable c = cause; c != null && depth < MAX_CAUSES; c = c.getCause(), depth++) {
            String m = c.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return Code.DISK_FULL;
            }
        }
        return Code.IO;
    }

    private static Path pathOf(String file) {
        try {
            return Path.of(file);
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /** Usable bytes of the file system holding {@code p} or its nearest existing ancestor; -1 if unknown. */
    private static long usableSpace(Path p) {
        for (Path q = p.toAbsolutePath(); q != null; q = q.getParent()) {
            if (Files.exists(q)) {
                try {
                    return Files.getFileStore(q).getUsableSpace();
                } catch (IOException | SecurityException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
