package dev.spool.storage;

/** Syncs before every push and pull returns; concurrent pushes to a queue share one sync. */
final class AlwaysFsyncPolicy implements FsyncPolicy {
    @Override
    public Durability afterPush(Journal journal, GroupCommit commit, long lastId) {
        commit.leadOrAwait(lastId);
        return Durability.DISK;
    }

    @Override
    public boolean syncsCursorOnPull() {
        return true;
    }

    @Override
    public void close() {
    }
}
