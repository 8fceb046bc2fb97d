package dev.spool.storage;

import java.util.concurrent.CompletableFuture;

/** When a journal's appends and cursor are forced to the disk; see {@link Fsync}. */
interface FsyncPolicy extends AutoCloseable {

    /** Completes when the ids up to {@code lastId} have the durability returned by {@link #durability()}. */
    CompletableFuture<Void> afterPush(GroupCommit commit, long lastId);

    /** What a completed push survives. */
    Durability durability();

    /** Whether a pull forces its cursor to the disk before returning. */
    boolean syncsCursorOnPull();

    @Override
    void close();

    static FsyncPolicy of(StoreConfig config, JournalSource journals) {
        return switch (config.fsync()) {
            case NONE -> new NoFsyncPolicy();
            case ALWAYS -> new AlwaysFsyncPolicy();
            case INTERVAL -> new IntervalFsyncPolicy(config.fsyncInterval(), journals);
        };
    }

    /** The open journals' group commits, for the interval ticker. */
    interface JournalSource {
        Iterable<GroupCommit> commits();
    }
}
