package dev.spool.storage;

/** Never syncs explicitly: survives a process crash, not power loss. */
final class NoFsyncPolicy implements FsyncPolicy {
    @Override
    public Durability afterPush(Journal journal, GroupCommit commit, long lastId) {
        return Durability.PROCESS;
    }

    @Override
    public boolean syncsCursorOnPull() {
        return false;
    }

    @Override
    public void close() {
    }
}
