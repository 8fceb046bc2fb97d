package dev.spool.storage;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Syncs as soon as a push waits: one syncer thread runs back-to-back syncs, each covering every push
 * appended before it started, so under load many pushes share one sync (group commit). Pulls sync
 * their cursor themselves.
 */
final class AlwaysFsyncPolicy implements FsyncPolicy {
    private final LinkedBlockingQueue<GroupCommit> dirty = new LinkedBlockingQueue<>();
    private final Thread syncer;
    private volatile boolean closed;

    AlwaysFsyncPolicy() {
        syncer = new Thread(this::run, "spool-fsync");
        syncer.setDaemon(true);
        syncer.start();
    }

    @Override
    public CompletableFuture<Void> afterPush(GroupCommit commit, long lastId) {
        CompletableFuture<Void> f = commit.whenSynced(lastId);
        if (!f.isDone() && commit.queued.compareAndSet(false, true)) {
            dirty.add(commit);
        }
        return f;
    }

    private void run() {
        while (!closed) {
            try {
                GroupCommit c = dirty.take();
                c.queued.set(false);
                c.syncNow();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // syncNow fails its waiters itself; keep serving the other queues.
            }
        }
    }

    @Override
    public Durability durability() {
        return Durability.DISK;
    }

    @Override
    public boolean syncsCursorOnPull() {
        return true;
    }

    @Override
    public void close() {
        closed = true;
        syncer.interrupt();
    }
}
