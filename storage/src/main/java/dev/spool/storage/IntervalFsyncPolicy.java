package dev.spool.storage;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One background thread syncs every dirty journal (and its cursor) each interval; a push completes
 * after the sync that covers it, so all pushes of an interval share one sync per queue.
 */
final class IntervalFsyncPolicy implements FsyncPolicy {
    private final ScheduledExecutorService ticker;

    IntervalFsyncPolicy(Duration interval, FsyncPolicy.JournalSource journals) {
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spool-fsync");
            t.setDaemon(true);
            return t;
        });
        long micros = Math.max(1, interval.toNanos() / 1000);
        ticker.scheduleWithFixedDelay(() -> {
            for (GroupCommit c : journals.commits()) {
                if (c.dirty()) {
                    c.syncNow();
                }
            }
        }, micros, micros, TimeUnit.MICROSECONDS);
    }

    @Override
    public CompletableFuture<Void> afterPush(GroupCommit commit, long lastId) {
        return commit.whenSynced(lastId);
    }

    @Override
    public Durability durability() {
        return Durability.DISK;
    }

    @Override
    public boolean syncsCursorOnPull() {
        return false;
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }
}
