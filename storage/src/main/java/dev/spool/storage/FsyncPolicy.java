package dev.spool.storage;

/** When a journal's appends and cursor are forced to the disk; see {@link Fsync}. */
interface FsyncPolicy extends AutoCloseable {

    /** Called after a push stored ids up to {@code lastId}; returns when they have the stated durability. */
    Durability afterPush(Journal journal, GroupCommit commit, long lastId);

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
