package dev.spool.storage;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit for one journal: callers wait until a sync covers their id; one sync covers every push
 * appended before it started, so concurrent pushes share it.
 */
final class GroupCommit {
    private final Journal journal;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition synced = lock.newCondition();
    private long syncedId;
    private long syncedConsumedId;
    private int syncedCycle = Integer.MIN_VALUE;
    private boolean syncing;
    private RuntimeException failure;
    private final java.util.concurrent.atomic.AtomicLong syncs = new java.util.concurrent.atomic.AtomicLong();

    GroupCommit(Journal journal) {
        this.journal = journal;
        this.syncedId = journal.lastId();
    }

    /** Waits until {@code id} is synced, running the sync itself if no other thread is (ALWAYS). */
    void leadOrAwait(long id) {
        lock.lock();
        try {
            while (syncedId < id) {
                if (syncing) {
                    awaitSignal();
                } else {
                    runSync();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits until a sync by another thread covers {@code id} (INTERVAL). */
    void await(long id) {
        lock.lock();
        try {
            while (syncedId < id) {
                if (failure != null) {
                    throw failure;
                }
                if (journal.isClosed()) {
                    throw new StoreException(StoreException.Code.CLOSED, "queue closed before its sync", null);
                }
                awaitSignal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Syncs if anything was appended since the last sync (called by the interval ticker). */
    void syncIfDirty() {
        lock.lock();
        try {
            if (!syncing && (journal.lastId() > syncedId || journal.consumedId() != syncedConsumedId)) {
                runSync();
            }
        } catch (RuntimeException e) {
            failure = e;
            synced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Syncs run so far. */
    long syncs() {
        return syncs.get();
    }

    /** Wakes waiters so they notice a close. */
    void wakeAll() {
        lock.lock();
        try {
            synced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void runSync() {
        syncing = true;
        int from = syncedCycle;
        long covered = -1;
        int coveredCycle = from;
        long consumed = journal.consumedId();
        lock.unlock();
        try {
            coveredCycle = journal.cycleOf(journal.lastIndex());
            covered = journal.sync(from);
            syncs.incrementAndGet();
        } finally {
            lock.lock();
            syncing = false;
            if (covered >= 0) {
                failure = null;
                syncedId = Math.max(syncedId, covered);
                syncedConsumedId = consumed;
                syncedCycle = Math.max(syncedCycle, coveredCycle);
            }
            synced.signalAll();
        }
    }

    private void awaitSignal() {
        try {
            synced.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreException.Code.IO, "interrupted while waiting for a sync", e);
        }
    }
}
