package dev.spool.storage;

import java.util.concurrent.CompletableFuture;

/** Never syncs explicitly: survives a process crash, not power loss. */
final class NoFsyncPolicy implements FsyncPolicy {
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    @Override
    public CompletableFuture<Void> afterPush(GroupCommit commit, long lastId) {
        return DONE;
    }

    @Override
    public Durability durability() {
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
