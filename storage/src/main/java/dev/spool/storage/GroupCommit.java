package dev.spool.storage;

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
    private int syncedCycle = Integer.MIN_VALUE;
    private long syncedLastId;
    private final StoreObserver observer;

    GroupCommit(Queue queue, StoreConfig.SyncDelay delay, StoreObserver observer) {
        this.queue = queue;
        this.delay = delay;
        this.observer = observer;
        this.syncedLastId = queue.lastId();
        this.syncedChange = queue.changes();
        this.syncedIndex = queue.lastIndex();
        this.syncedFloor = queue.floor();
        this.syncedStateEntries = queue.stateEntries();
    }

    Queue queue() {
        return queue;
    }

    /** Completes when a sync covers {@code change}. */
    CompletableFuture<Void> whenSynced(long change) {
        lock.lock();
        try {
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
        return queue.changes() > syncedChange;
    }

    /** Syncs now and completes the waiters it covers. Called by one thread at a time. */
    void syncNow() {
        // Read the change count first: every change counted so far has written its files already.
        long target = queue.changes();
        long index = queue.lastIndex();
        long floor = queue.floor();
        long stateEntries = queue.stateEntries();
        long lastId = queue.lastId();
        RuntimeException failure = null;
        long start = System.nanoTime();
        try {
            delay.beforeSync();
            if (index != syncedIndex) {
                queue.forceJournal(syncedCycle, index);
                syncedCycle = Math.max(syncedCycle, queue.cycleOf(index));
                syncedIndex = index;
            }
            if (floor != syncedFloor) {
                queue.forceCursor();
                syncedFloor = floor;
            }
            if (stateEntries != syncedStateEntries) {
                queue.forceState();
                syncedStateEntries = stateEntries;
            }
            syncs.incrementAndGet();
            observer.synced(System.nanoTime() - start, Math.max(0, lastId - syncedLastId));
            syncedLastId = Math.max(syncedLastId, lastId);
        } catch (IOException | RuntimeException | InternalError e) {
            failure = StoreException.of("sync of queue '" + queue.name + "'", e, queue.dir);
        }
        List<Pending> done = new ArrayList<>();
        lock.lock();
        try {
            if (failure == null) {
                syncedChange = Math.max(syncedChange, target);
                while (!pending.isEmpty() && pending.peek().change() <= syncedChange) {
                    done.add(pending.poll());
                }
            } else {
                done.addAll(pending);
                pending.clear();
            }
        } finally {
            lock.unlock();
        }
        for (Pending p : done) {
            if (failure == null) {
                p.done().complete(null);
            } else {
                p.done().completeExceptionally(failure);
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
