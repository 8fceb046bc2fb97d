package dev.spool.storage.journal;

import dev.spool.storage.Durability;
import dev.spool.storage.Fsync;
import dev.spool.storage.StoreConfig;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * When a queue's changes are forced to the disk; see {@link Fsync}. No policy holds a caller's thread:
 * a call that must wait for a sync gets a future that the syncing thread completes.
 */
abstract class FsyncPolicy implements AutoCloseable {
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    /** Completes when a push's changes have the durability of {@link #durability()}. */
    abstract CompletableFuture<Void> afterPush(GroupCommit commit, long change);

    /** Completes when a pull's, lease's or ack's changes are as durable as the policy promises. */
    abstract CompletableFuture<Void> afterConsume(GroupCommit commit, long change);

    /** Whether pulls, leases' acks and the like wait for their sync (so a failed sync can undo them). */
    boolean consumersWait() {
        return false;
    }

    /** What a completed push survives. */
    abstract Durability durability();

    @Override
    public abstract void close();

    static FsyncPolicy of(StoreConfig config, Iterable<GroupCommit> commits) {
        return switch (config.fsync()) {
            case NONE -> new None();
            case ALWAYS -> new Always();
            case INTERVAL -> new Interval(config.fsyncInterval(), commits);
        };
    }

    /** Never syncs explicitly: survives a process crash, not power loss. */
    static final class None extends FsyncPolicy {
        @Override
        CompletableFuture<Void> afterPush(GroupCommit commit, long change) {
            return DONE;
        }

        @Override
        CompletableFuture<Void> afterConsume(GroupCommit commit, long change) {
            return DONE;
        }

        @Override
        Durability durability() {
            return Durability.PROCESS;
        }

        @Override
        public void close() {
        }
    }

    /**
     * Syncs as soon as anything waits: one syncer thread runs back-to-back syncs, each covering every
     * change made before it started, so under load many pushes, pulls and acks share one sync.
     */
    static final class Always extends FsyncPolicy {
        private final LinkedBlockingQueue<GroupCommit> dirty = new LinkedBlockingQueue<>();
        private final Thread syncer;
        private volatile boolean closed;

        Always() {
            syncer = new Thread(this::run, "spool-fsync");
            syncer.setDaemon(true);
            syncer.start();
        }

        @Override
        CompletableFuture<Void> afterPush(GroupCommit commit, long change) {
            CompletableFuture<Void> f = commit.whenSynced(change);
            if (!f.isDone() && commit.queued.compareAndSet(false, true)) {
                dirty.add(commit);
            }
            return f;
        }

        @Override
        CompletableFuture<Void> afterConsume(GroupCommit commit, long change) {
            return afterPush(commit, change);
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
        boolean consumersWait() {
            return true;
        }

        @Override
        Durability durability() {
            return Durability.DISK;
        }

        @Override
        public void close() {
            closed = true;
            syncer.interrupt();
        }
    }

    /**
     * One background thread syncs every dirty queue each interval; a push completes after the sync that
     * covers it. Pulls and acks do not wait (a power loss may bring back what was taken since the last
     * sync, as the README states).
     */
    static final class Interval extends FsyncPolicy {
        private final ScheduledExecutorService ticker;

        Interval(Duration interval, Iterable<GroupCommit> commits) {
            ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "spool-fsync");
                t.setDaemon(true);
                return t;
            });
            long micros = Math.max(1, interval.toNanos() / 1000);
            ticker.scheduleWithFixedDelay(() -> {
                for (GroupCommit c : commits) {
                    if (c.dirty()) {
                        c.syncNow();
                    }
                }
            }, micros, micros, TimeUnit.MICROSECONDS);
        }

        @Override
        CompletableFuture<Void> afterPush(GroupCommit commit, long change) {
            return commit.whenSynced(change);
        }

        @Override
        CompletableFuture<Void> afterConsume(GroupCommit commit, long change) {
            return DONE;
        }

        @Override
        Durability durability() {
            return Durability.DISK;
        }

        @Override
        public void close() {
            ticker.shutdownNow();
        }
    }
}
