package dev.spool.storage;

/**
 * Told of the store's disk work as it happens, for metrics. Called on the store's own threads (the syncer, the
 * checkpointer), never on a caller's; an implementation must be quick and must not throw.
 */
public interface StoreObserver {
    /** Observes nothing. */
    StoreObserver NONE = new StoreObserver() {
    };

    /**
     * A group commit of one queue forced its files to disk.
     *
     * @param nanos    how long the sync took
     * @param messages messages pushed since the queue's previous sync, made durable by this one
     */
    default void synced(long nanos, long messages) {
    }

    /** A checkpoint was written, taking {@code nanos}. */
    default void checkpointed(long nanos) {
    }
}
