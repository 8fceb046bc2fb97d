package dev.spool.storage.journal;

import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import dev.spool.storage.StoreObserver;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit for one queue. A call registers the change it needs synced ({@link Queue#changes()});
 * one thread (the policy's syncer or ticker) runs {@link #syncNow}, which covers every change made before
 * it started, so every push, pull, lease and ack waiting at that moment shares one sync of the journal,
 * the cursor and the state log. Waiting holds no thread: a future completes.
 */
final class GroupCommit {
    private record Pending(long change, CompletableFuture<Void> done) {
    }

    private final Queue queue;
    // The parts a sync forces; each forces its own files.
    private final Journal journal;
    private final Reader reader;
    private final StateLog log;
    private final StoreConfig.SyncDelay delay;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final AtomicLong syncs = new AtomicLong();
    /** Set while this commit is queued for the syncer, so it is queued once. */
    final AtomicBoolean queued = new AtomicBoolean();
    // Written by the one syncing thread only.
    private long syncedChange;
    private long syncedIndex;
    private long syncedFloor;
    private long syncedStateEntries;
    private long syncedLastId;
    private final StoreObserver observer;
    /** Pulls and acks wait for the sync (fsync: always): a failed sync undoes them. */
    private final boolean consumersWait;
    /** Set when a sync failed: final for the queue (guarded by the lock). */
    private StoreException failure;

    GroupCommit(Queue queue, StoreConfig.SyncDelay delay, StoreObserver observer, boolean consumersWait) {
        this.queue = queue;
        this.journal = queue.journal();
        this.reader = queue.reader();
        this.log = queue.log();
        this.delay = delay;
        this.observer = observer;
        this.consumersWait = consumersWait;
        this.syncedLastId = journal.lastId();
        this.syncedChange = queue.changes();
        this.syncedIndex = journal.lastIndex();
        this.syncedFloor = reader.floor();
        this.syncedStateEntries = log.mustSyncEntries();
    }

    Queue queue() {
        return queue;
    }

    /** Completes when a sync covers {@code change}; fails at once once a sync of the queue has failed. */
    CompletableFuture<Void> whenSynced(long change) {
        lock.lock();
        try {
            if (failure != null) {
                return CompletableFuture.failedFuture(failure);
            }
            if (syncedChange >= change) {
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            pending.add(new Pending(change, f));
            return f;
        } finally {
            lock.unlock();
        }
    }

    /** Whether anything changed since the last sync. */
    boolean dirty() {
        return failure == null && queue.changes() > syncedChange;
    }

    /**
     * Syncs now and completes the waiters it covers. Called by one thread at a time. A failed sync is final for
     * the queue (see {@link Queue#fail}): every waiter, now and later, fails with
     * {@link StoreException.Code#SYNC_FAILED}, since what the files hold is unknown.
     */
    void syncNow() {
        if (failure != null) {
            return;
        }
        Queue.SyncPoint p = queue.syncPoint();
        // Every named subscription's point is read after the queue's and before any force: each covers what the
        // queue's change count counted of that subscription. The sync answers up to the queue's count (the first
        // read, so the smallest): what came after it may not be on the disk the forces reach.
        List<Reader> subReaders = new ArrayList<>();
        List<Queue.SyncPoint> subPoints = new ArrayList<>();
        for (Queue.Named n : queue.subscriptions()) {
            subReaders.add(n.reader);
            subPoints.add(n.reader.syncPoint());
        }
        Throwable cause = null;
        long start = System.nanoTime();
        try {
            delay.beforeSync();
            if (p.lastIndex() != syncedIndex) {
                journal.force(p.lastIndex());
                syncedIndex = p.lastIndex();
            }
            if (p.floor() != syncedFloor) {
                reader.force();
                syncedFloor = p.floor();
            }
            if (p.stateEntries() != syncedStateEntries) {
                log.force();
                syncedStateEntries = p.stateEntries();
            }
            for (int i = 0; i < subReaders.size(); i++) {
                subReaders.get(i).forceChanged(subPoints.get(i));
            }
            syncs.incrementAndGet();
            observer.synced(System.nanoTime() - start, Math.max(0, p.lastId() - syncedLastId));
            syncedLastId = Math.max(syncedLastId, p.lastId());
        } catch (IOException | RuntimeException | InternalError e) {
            cause = e;
        }
        List<Pending> done = new ArrayList<>();
        StoreException failed = null;
        if (cause == null) {
            reader.synced(p);
            for (int i = 0; i < subReaders.size(); i++) {
                subReaders.get(i).synced(subPoints.get(i));
            }
        } else {
            failed = new StoreException(StoreException.Code.SYNC_FAILED, "queue '" + queue.name + "': a sync of its "
                    + "files failed, so this request's outcome is unknown: a push may have been "
                    + "stored (retry it with the same Idempotency-Key once the broker has restarted; it is then "
                    + "stored once), a pull or ack was undone; the queue takes no changes until the broker restarts",
                    cause);
            queue.fail("a sync of its files failed", cause, consumersWait);
        }
        lock.lock();
        try {
            if (failed == null) {
                syncedChange = Math.max(syncedChange, p.change());
                while (!pending.isEmpty() && pending.peek().change() <= syncedChange) {
                    done.add(pending.poll());
                }
            } else {
                failure = failed;
                done.addAll(pending);
                pending.clear();
            }
        } finally {
            lock.unlock();
        }
        for (Pending w : done) {
            if (failed == null) {
                w.done().complete(null);
            } else {
                w.done().completeExceptionally(failed);
            }
        }
    }

    /** Syncs run so far. */
    long syncs() {
        return syncs.get();
    }

    /** Fails every waiter: the queue was closed before its sync. */
    void wakeAll() {
        List<Pending> all;
        lock.lock();
        try {
            all = new ArrayList<>(pending);
            pending.clear();
        } finally {
            lock.unlock();
        }
        for (Pending p : all) {
            p.done().completeExceptionally(new StoreException(StoreException.Code.CLOSED,
                    "queue closed before its sync", null));
        }
    }
}
