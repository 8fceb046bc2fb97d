package dev.spool.storage;

/** A failure of the storage engine, classified by a stable {@link Code}. */
public final class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Code {
        /** The disk (or the quota) is full; nothing was stored. */
        DISK_FULL,
        /** Any other I/O failure. */
        IO,
        /** The store was used after {@link QueueStore#close()}. */
        CLOSED,
        /** The data folder is held by another process (or another store in this one); nothing was opened. */
        LOCKED
    }

    private final Code code;

    public StoreException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }

    /** Classifies an I/O failure once, at the storage boundary. */
    static StoreException of(String what, Throwable cause) {
        return new StoreException(isDiskFull(cause) ? Code.DISK_FULL : Code.IO, what + ": " + cause, cause);
    }

    private static boolean isDiskFull(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }
}
