package dev.spool.storage.journal;

import dev.spool.storage.Durability;
import dev.spool.storage.PushResult;
import dev.spool.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The push side of a queue: its journal file ({@link EntryFile}), the write head and the id reservation (in the
 * cursor file), the idempotency window and the free-space floor. Pushes are serialised by its lock; readers
 * ({@link Reader}) read what it wrote without taking it.
 *
 * <p>Ids grow by one per message within a run of the broker. They are handed out under a reservation synced
 * ahead of use by the store's thread ({@link #extendReservation}), a block at a time; after an unclean stop the
 * queue continues above the reservation, so an id answered before a power loss that lost the journal's tail is
 * never given to another message. Ids that no message has are gaps ({@link StateLog.Gap}), and an entry whose id
 * is in one is void: a batch that failed part-way leaves such entries, which no reader delivers.
 */
final class Journal {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    /** Ids reserved at a time: a synced reservation covers about a second of the fastest pushes. */
    static final long ID_BLOCK = 1 << 20;
    /** Bytes an entry costs beyond its payload (its header, Chronicle's, a share of the index), for the floor. */
    private static final int ENTRY_OVERHEAD = 64;

    /** Decides, under the push lock, whether {@code fresh} more messages fit: null if they do. */
    @FunctionalInterface
    interface Admission {
        PushResult.Full refuse(int fresh);
    }

    /** What an append did. */
    sealed interface Appended permits Stored, Refused, Gone {
    }

    /**
     * The messages are in the journal with the consecutive ids {@code firstId..}, or the ids in {@code ids} when
     * keys named messages stored before; what they survive is the store's to say ({@link #as}).
     */
    record Stored(long firstId, int count, long[] ids, int duplicates) implements Appended {
        PushResult.Stored as(Durability durability) {
            return new PushResult.Stored(firstId, count, durability, ids, duplicates);
        }
    }

    /** Nothing was stored: the messages do not fit. */
    record Refused(PushResult.Full full) implements Appended {
    }

    /** Nothing was stored: the queue was closed (deleted). */
    record Gone() implements Appended {
    }

    private final String name;
    private final Path dir;
    private final EntryFile entries;
    private final Cursor marks;
    private final StateLog log;
    private final IdempotencyWindow keys;
    private final DiskSpace space;
    private final Clock clock;
    private final Fence fence;
    private final AtomicLong changes;
    private final Runnable askIds;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile long lastId;
    private volatile long lastIndex;
    /** The highest id that may be handed out: synced to the cursor file before it is raised. */
    private volatile long reserved;
    /** Set while the store thread is asked to extend the reservation (guarded by the lock). */
    private boolean reserving;
    /** Ids no message has. Replaced whole under the lock; read without it. */
    private volatile List<StateLog.Gap> gaps;
    private volatile long gapIds;
    private volatile boolean closed;
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder redriven = new LongAdder();

    /**
     * @param marks  the cursor file, whose write head and id reservation this side writes
     * @param log    the state log, where keys and gaps are logged
     * @param askIds asks the store's thread to call {@link #extendReservation} (called with no lock held)
     */
    Journal(String name, Path dir, EntryFile entries, Cursor marks, StateLog log, IdempotencyWindow keys,
            DiskSpace space, Clock clock, Fence fence, AtomicLong changes, Runnable askIds, List<StateLog.Gap> gaps,
            long lastId, long lastIndex, long reserved) {
        this.name = name;
        this.dir = dir;
        this.entries = entries;
        this.marks = marks;
        this.log = log;
        this.keys = keys;
        this.space = space;
        this.clock = clock;
        this.fence = fence;
        this.changes = changes;
        this.askIds = askIds;
        this.gaps = List.copyOf(gaps);
        this.gapIds = gaps.stream().mapToLong(StateLog.Gap::size).sum();
        this.lastId = lastId;
        this.lastIndex = lastIndex;
        this.reserved = reserved;
    }

    /** The push lock (the queue takes it with the readers' locks for snapshots and close). */
    ReentrantLock lock() {
        return lock;
    }

    /**
     * Appends all or none. A message whose idempotency key (same position in {@code keyList}, null for none) was
     * seen within the window is not stored: its original id is answered instead. A key is logged before its
     * message is appended, so a stored message never lacks its key after a crash. A batch that fails part-way is
     * made void ({@link #voidBatch}) and the failure thrown: for readers, nothing was stored.
     */
    Appended append(List<byte[]> payloads, List<String> keyList, Admission admission) {
        int n = payloads.size();
        boolean askForIds = false;
        lock.lock();
        try {
            if (closed) {
                return new Gone();
            }
            fence.check();
            long now = clock.millis();
            long[] ids = null;
            int fresh = n;
            if (keyList != null) {
                keys.expire(now);
                ids = new long[n];
                fresh = assignIds(keyList, ids, now);
            }
            PushResult.Full full = admission.refuse(fresh);
            if (full != null) {
                return new Refused(full);
            }
            long bytes = 0;
            for (byte[] p : payloads) {
                bytes += p.length + ENTRY_OVERHEAD;
            }
            if (!space.admit(bytes)) {
                throw space.refusal(name);
            }
            if (lastId + fresh > reserved - ID_BLOCK / 2 && !reserving) {
                reserving = true;
                askForIds = true;
            }
            if (lastId + fresh > reserved) {
                // The store thread has not synced a new reservation yet (only at absurd rates): no id is used
                // before it is reserved durably, and nothing is stored.
                throw new StoreException(StoreException.Code.BUSY, "queue '" + name + "': ids are being reserved; "
                        + "retry", null);
            }
            long first = lastId + 1;
            write(payloads, keyList, ids, first, now);
            if (n > fresh) {
                duplicates.add(n - fresh);
            }
            return new Stored(first, n, ids, n - fresh);
        } catch (RuntimeException | InternalError | AssertionError e) {
            throw StoreException.of("push to queue '" + name + "'", e, dir);
        } finally {
            lock.unlock();
            if (askForIds) {
                askIds.run();
            }
        }
    }

    /** Gives each message of a keyed batch its id (a repeated key its first one); returns how many are new. */
    private int assignIds(List<String> keyList, long[] ids, long now) {
        Map<String, Long> inBatch = new HashMap<>();
        long next = lastId + 1;
        int fresh = 0;
        for (int i = 0; i < ids.length; i++) {
            String k = keyList.get(i);
            long seen = k == null ? -1 : keys.idOf(k, now);
            Long batchId = k == null ? null : inBatch.get(k);
            if (seen >= 0) {
                ids[i] = seen;
            } else if (batchId != null) {
                ids[i] = batchId;
            } else {
                ids[i] = next++;
                fresh++;
                if (k != null) {
                    inBatch.put(k, ids[i]);
                }
            }
        }
        return fresh;
    }

    /** Writes the new messages of a batch from id {@code first}; under the lock. */
    private void write(List<byte[]> payloads, List<String> keyList, long[] ids, long first, long now) {
        long id = first;
        long index = lastIndex;
        List<String> keysLogged = null;
        try {
            for (int i = 0; i < payloads.size(); i++) {
                if (ids != null && ids[i] != id) {
                    continue; // a duplicate: stored before
                }
                String k = keyList == null ? null : keyList.get(i);
                if (k != null && keys.idOf(k, now) < 0) {
                    if (keysLogged == null) {
                        keysLogged = new ArrayList<>();
                    }
                    keysLogged.add(k);
                    log.key(k, id, now);
                    keys.remember(k, id, now);
                }
                if (id > first) {
                    Faults.at(Faults.Point.BATCH_APPEND);
                }
                Faults.at(Faults.Point.JOURNAL_APPEND);
                index = entries.append(id, payloads.get(i));
                id++;
            }
            if (id > first) {
                marks.head(index, id - 1);
                entries.appended(first, now);
            }
        } catch (RuntimeException | InternalError | AssertionError e) {
            // AssertionError: Chronicle's own checks (with -ea) on a journal whose file changed under its mapping.
            voidBatch(first, id, keysLogged, e);
            throw e;
        }
        if (id > first) {
            lastIndex = index;
            lastId = id - 1;
            changes.incrementAndGet();
        }
    }

    /**
     * A batch failed part-way (a failed write, a fault of the mapping): its entries {@code first..failed-1} may be
     * in the journal, and entry {@code failed} half-written. Their ids become a gap, logged and synced, so readers
     * skip those entries, no id is used again, and their keys are forgotten: for readers the batch was never
     * stored, as its answer says. Under the lock.
     */
    private void voidBatch(long first, long failed, List<String> keysLogged, Throwable cause) {
        StateLog.Gap gap = new StateLog.Gap(first, failed);
        List<StateLog.Gap> now = new ArrayList<>(gaps);
        now.add(gap);
        gaps = List.copyOf(now);
        gapIds += gap.size();
        lastId = failed; // the journal itself is not read here: after a fault of its mapping it may not be readable
        if (keysLogged != null) {
            for (String k : keysLogged) {
                keys.forget(k, first);
            }
        }
        changes.incrementAndGet();
        if (cause instanceof InternalError || cause instanceof AssertionError) {
            // A fault of the journal's mapping (SIGBUS: its file shrank or the disk could not back a page): the
            // journal cannot be trusted, and Chronicle's write lock may still be held by the broken append, which
            // would hold every later push for its lock timeout. Stop here; a restart re-checks and rebuilds.
            fence.close("a write into its journal's mapping faulted", cause);
        }
        try {
            log.gap(gap);
            log.force();
            LOG.error("queue '{}': a push of {} messages failed part-way ({}); ids {} to {} are void: any of their "
                    + "entries in the journal is never delivered, and the push was answered as not stored", name,
                    failed - first + 1, cause.toString(), first, failed);
        } catch (IOException | RuntimeException | InternalError e) {
            fence.close("recording the void ids " + first + " to " + failed + " of a failed push failed", e);
        }
    }

    /**
     * Reserves the next block of ids and syncs the reservation before publishing it. Runs on the store's thread;
     * the lock is not held across the sync, so pushes go on meanwhile.
     */
    void extendReservation() {
        long target;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            target = lastId + ID_BLOCK;
        } finally {
            lock.unlock();
        }
        try {
            marks.reserve(target);
            marks.sync();
        } catch (RuntimeException | InternalError e) {
            fence.close("syncing the id reservation failed", e);
            return;
        }
        lock.lock();
        try {
            reserved = Math.max(reserved, target);
            reserving = false;
        } finally {
            lock.unlock();
        }
    }

    /** Whether an id is void (in a gap): an entry with it is never delivered. */
    boolean isVoid(long id) {
        List<StateLog.Gap> g = gaps;
        return !g.isEmpty() && inGap(g, id);
    }

    static boolean inGap(List<StateLog.Gap> gaps, long id) {
        for (StateLog.Gap g : gaps) {
            if (id >= g.from() && id <= g.to()) {
                return true;
            }
        }
        return false;
    }

    /** Ids in gaps above {@code id} (gaps are few: one per unclean stop or failed batch). */
    long gapIdsAbove(long id) {
        long n = 0;
        for (StateLog.Gap g : gaps) {
            if (g.to() > id) {
                n += g.to() - Math.max(g.from(), id + 1) + 1;
            }
        }
        return n;
    }

    /** Ids in gaps, all told. */
    long gapIds() {
        return gapIds;
    }

    List<StateLog.Gap> gaps() {
        return gaps;
    }

    /** The last id handed out (a message's, or a void one's). */
    long lastId() {
        return lastId;
    }

    long lastIndex() {
        return lastIndex;
    }

    EntryFile entries() {
        return entries;
    }

    /** Forces the journal up to {@code index} to the disk (the syncing thread). */
    void force(long index) throws IOException {
        entries.force(index);
    }

    /** The idempotency keys in the window, for a snapshot; under the lock. */
    Map<String, IdempotencyWindow.Seen> keysNow() {
        keys.expire(clock.millis());
        return keys.snapshot();
    }

    int keyCount() {
        return keys.size();
    }

    /** Counts {@code n} messages moved back into this queue by a redrive. */
    void redriven(long n) {
        redriven.add(n);
    }

    long redriven() {
        return redriven.sum();
    }

    long duplicates() {
        return duplicates.sum();
    }

    /**
     * Stops pushes, records a clean stop (the next start continues right after the last id) and closes the journal
     * file. Under the lock.
     */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            marks.reserve(lastId);
            marks.sync();
        } catch (RuntimeException | InternalError e) {
            LOG.error("queue '{}': syncing the cursor file at close failed: {}; the next start skips the ids "
                    + "reserved", name, e.toString());
        }
        entries.close();
    }
}
