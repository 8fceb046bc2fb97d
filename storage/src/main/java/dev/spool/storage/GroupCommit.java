package dev.spool.storage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit for one journal. A push registers the id it needs synced; one thread (the policy's
 * syncer or ticker) runs {@link #syncNow}, which covers every push appended before it started, so all
 * pushes waiting at that moment share one sync. Waiting holds no thread: a future completes.
 */
final class GroupCommit {
    private record Pending(long id, CompletableFuture<Void> done) {
    }

    private final Journal journal;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private final AtomicLong syncs = new AtomicLong();
    /** Set while this commit is queued for the syncer, so it is queued once. */
    final AtomicBoolean queued = new AtomicBoolean();
    private long syncedId;
    private long syncedConsumedId;
    private long syncedStateEntries;
    private int syncedCycle = Integer.MIN_VALUE;

    GroupCommit(Journal journal) {
        this.journal = journal;
        this.syncedId = journal.lastId();
        this.syncedConsumedId = journal.consumedId();
    }

    /** Completes when a sync covers {@code id}. */
    CompletableFuture<Void> whenSynced(long id) {
        lock.lock();
        try {
            if (syncedId >= id) {
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> f = new CompletableFuture<>();
            pending.add(new Pending(id, f));
            return f;
        } finally {
            lock.unlock();
        }
    }

    /** Whether anything was appended, consumed or logged since the last sync. */
    boolean dirty() {
        lock.lock();
        try {
            return journal.lastId() > syncedId || journal.consumedId() != syncedConsumedId
                    || journal.stateEntries() != syncedStateEntries;
        } finally {
            lock.unlock();
        }
    }

    /** Syncs now and completes the pushes it covers. Called by one thread at a time. */
    void syncNow() {
        int from;
        long consumed;
        long stateEntries;
        boolean cursorDirty;
        boolean stateDirty;
        lock.lock();
        try {
            from = syncedCycle;
            consumed = journal.consumedId();
            stateEntries = journal.stateEntries();
            cursorDirty = consumed != syncedConsumedId;
            stateDirty = stateEntries != syncedStateEntries;
        } finally {
            lock.unlock();
        }
        List<Pending> done = new ArrayList<>();
        RuntimeException failure = null;
        long covered = -1;
        int coveredCycle = from;
        try {
            coveredCycle = journal.cycleOf(journal.lastIndex());
            covered = journal.sync(from, cursorDirty, stateDirty);
            syncs.incrementAndGet();
        } catch (RuntimeException e) {
            failure = e;
        }
        lock.lock();
        try {
            if (failure == null) {
                syncedId = Math.max(syncedId, covered);
                syncedConsumedId = consumed;
                syncedStateEntries = stateEntries;
                syncedCycle = Math.max(syncedCycle, coveredCycle);
                while (!pending.isEmpty() && pending.peek().id() <= syncedId) {
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

    /** Fails every waiting push: the queue was closed before its sync. */
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
