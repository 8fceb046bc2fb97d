package dev.spool.storage.journal;

import dev.spool.storage.Leased;
import dev.spool.storage.Message;
import dev.spool.storage.QueueCounts;
import dev.spool.storage.SettleResult;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One reader of a queue's journal: its durable cursor, its lease table, delivery counts and dead-letter moves, and
 * the acknowledgements it logs in its state log. Everything that consumes is serialised by its lock; it reads what
 * the {@link Journal} wrote without taking the push lock, through a {@link EntryFile.Reader} of its own, and skips
 * void entries. A queue has its own reader (the default subscription, whose files are the queue's) and one per
 * named subscription ({@link Subscription}), each with its own files.
 */
final class Reader {
    private static final Logger LOG = LoggerFactory.getLogger(Reader.class);

    private final String name;
    private final Path dir;
    /** The subscription's name, or null for the queue's own reader. */
    private final String subscription;
    private final Journal journal;
    private final EntryFile.Reader tail;
    private final Cursor cursor;
    private final StateLog log;
    /** Replaced whole by a {@link #seek} (guarded by the lock). */
    private LeaseTable leases;
    private final Clock clock;
    private final Fence fence;
    private final AtomicLong changes;
    private final Queue.Events events;
    private final Queue owner;
    private final ReentrantLock lock = new ReentrantLock();
    /** Held while the syncing thread forces a named subscription's files, so a delete does not close them under it. */
    private final ReentrantLock forceLock = new ReentrantLock();
    private final LongAdder taken = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder acked = new LongAdder();
    private final LongAdder nacked = new LongAdder();
    private final LongAdder deadLetterMoves = new LongAdder();
    /** Leases timed out, published from the lease table under the lock. */
    private volatile long expired;
    private volatile long floor;
    private volatile int doneAbove;
    private volatile int inFlight;
    private volatile boolean closed;
    private volatile boolean paused;
    /** What the syncing thread last forced of this reader's files (that thread's alone). */
    private long syncedFloor = Long.MIN_VALUE;
    private long syncedStateEntries = Long.MIN_VALUE;
    /** The deadline the store was last asked to call back at (guarded by the lock). */
    private long scheduledDeadline = Long.MAX_VALUE;
    /** What may still be undone, and where the call in progress began (guarded by the lock). */
    private Unsynced unsynced;
    private final Unsynced.Mark mark = new Unsynced.Mark();

    Reader(Queue owner, String subscription, EntryFile.Reader tail, Queue.Events events, Journal journal,
           Cursor cursor, StateLog log, LeaseTable leases, Clock clock, Fence fence, AtomicLong changes) {
        this.owner = owner;
        this.subscription = subscription;
        this.name = subscription == null ? owner.name : owner.name + "' subscription '" + subscription;
        this.dir = owner.dir;
        this.events = events;
        this.journal = journal;
        this.tail = tail;
        this.cursor = cursor;
        this.log = log;
        this.leases = leases;
        this.clock = clock;
        this.fence = fence;
        this.changes = changes;
        this.unsynced = new Unsynced(cursor.position());
        publishLeaseCounts();
    }

    Queue owner() {
        return owner;
    }

    /** The subscription's name, or null for the queue's own reader. */
    String subscription() {
        return subscription;
    }

    /** Whether pulls and leases are answered empty (pushes go on). */
    boolean paused() {
        return paused;
    }

    void pause(boolean pause) {
        paused = pause;
    }

    /** The pull lock (the queue takes it with the push lock for snapshots and close). */
    ReentrantLock lock() {
        return lock;
    }

    // ---- pulls and leases -------------------------------------------------------------------------

    /** Removes and returns up to {@code max} of the oldest messages not leased; null if closed. */
    List<Message> take(int max) {
        List<Message> out = new ArrayList<>(Math.min(max, 1024));
        lock.lock();
        mark.clear();
        try {
            if (closed) {
                return null;
            }
            if (paused) {
                return out;
            }
            begin();
            long now = clock.millis();
            while (out.size() < max) {
                Message m = leases.simple() ? takeAtFloor() : takeAvailable(now);
                if (m == null) {
                    break;
                }
                out.add(m);
            }
            if (!out.isEmpty()) {
                changes.incrementAndGet();
                taken.add(out.size());
            }
        } catch (RuntimeException | InternalError | AssertionError e) {
            abandon("pull", e);
            throw StoreException.of("pull from queue '" + name + "'", e, dir);
        } finally {
            afterPull();
        }
        return out;
    }

    /** The fast path without lease state: read at the floor and move the cursor past it. */
    private Message takeAtFloor() {
        EntryFile.Reader r = tail;
        long lastId = journal.lastId();
        while (leases.floor() < lastId) {
            if (!r.next()) {
                long floorNow = leases.floor();
                if (lastId - floorNow > journal.gapIdsAbove(floorNow)
                        + owner.addressed.elsewhereAbove(floorNow, subscription)) {
                    LOG.error("queue '{}': journal ends before id {} though {} was stored; treating as empty",
                            name, floorNow + 1, lastId);
                }
                // Else every id left is void (skipped after an unclean stop): nothing is missing.
                return null;
            }
            EntryCodec e = r.codec();
            leases.consumed(e.id(), r.index());
            followFloor();
            if (passesBy(e.id())) {
                continue; // of a batch that failed part-way, or another reader's redrive: never delivered here
            }
            if (e.intact()) {
                return new Message(e.id(), e.payload());
            }
            logCorrupt(e.id(), r.index());
        }
        return null;
    }

    /** Whether this reader never delivers message {@code id}: void, or addressed to another reader alone. */
    private boolean passesBy(long id) {
        return journal.isVoid(id) || owner.addressed.elsewhere(id, subscription);
    }

    /** Moves the durable cursor to the lease table's floor, publishes it, and lets retention follow. */
    private void followFloor() {
        cursor.advance(leases.floorIndex(), leases.floor());
        // Published after the cursor write: a sync that reads this floor covers that write.
        floor = leases.floor();
        tail.retainFrom(leases.floorIndex());
    }

    private void logCorrupt(long id, long index) {
        LOG.error("queue '{}': entry id {} (index {}) is corrupt (checksum mismatch); skipped", name, id,
                Long.toHexString(index));
    }

    /** A destructive take past leases: the oldest available message, acknowledged at once. */
    private Message takeAvailable(long now) {
        Message m = nextAvailable(now);
        if (m != null) {
            markDone(m.id());
        }
        return m;
    }

    /** The oldest message neither done nor leased, or null. Expired leases come back first. */
    private Message nextAvailable(long now) {
        leases.expire(now);
        for (long id = leases.pollReady(); id >= 0; id = leases.pollReady()) {
            byte[] payload = tail.readAt(leases.indexOf(id), id);
            if (payload != null) {
                return new Message(id, payload);
            }
            markDone(id);
        }
        EntryFile.Reader r = tail;
        long lastId = journal.lastId();
        while (leases.readId() < lastId) {
            if (!r.next()) {
                return null;
            }
            EntryCodec e = r.codec();
            if (passesBy(e.id())) {
                continue; // void, or another reader's redrive: never delivered here (the floor passes it with the next)
            }
            if (!leases.read(e.id(), r.index())) {
                continue; // acknowledged before a restart
            }
            if (e.intact()) {
                return new Message(e.id(), e.payload());
            }
            logCorrupt(e.id(), r.index());
            markDone(e.id());
        }
        return null;
    }

    /** Marks a message consumed for good: moves the cursor if it is the oldest, else logs it. */
    private void markDone(long id) {
        if (leases.markDone(id)) {
            followFloor();
        } else {
            log.done(id);
            unsynced.acked(changes.get(), id);
        }
    }

    /** Leases up to {@code max} messages for {@code visibilityMillis}; null if closed. */
    List<Leased> lease(int max, long visibilityMillis) {
        List<Leased> out = new ArrayList<>();
        lock.lock();
        mark.clear();
        try {
            if (closed) {
                return null;
            }
            if (paused) {
                return out;
            }
            begin();
            long now = clock.millis();
            while (out.size() < max) {
                Message m = nextAvailable(now);
                if (m == null) {
                    break;
                }
                LeaseTable.Lease l = leases.lease(m.id(), now, visibilityMillis);
                log.lease(m.id(), l.delivery);
                out.add(new Leased(m.id(), l.token(), l.delivery, m.payload()));
            }
            if (!out.isEmpty()) {
                changes.incrementAndGet();
                delivered.add(out.size());
            }
        } catch (RuntimeException | InternalError | AssertionError e) {
            abandon("lease", e);
            throw StoreException.of("lease from queue '" + name + "'", e, dir);
        } finally {
            afterPull();
        }
        return out;
    }

    /** Acknowledges, releases (after {@code millis}) or renews (for {@code millis}) leases; null if closed. */
    SettleResult.Settled settle(Settlement how, List<String> tokens, long millis) {
        int accepted = 0;
        int available = 0;
        List<SettleResult.Rejected> rejected = new ArrayList<>();
        lock.lock();
        mark.clear();
        try {
            if (closed) {
                return null;
            }
            begin();
            long now = clock.millis();
            available += leases.expire(now);
            for (String token : tokens) {
                LeaseTable.Lease l = leases.find(token);
                if (l == null) {
                    rejected.add(new SettleResult.Rejected(token, leases.refusal(token) == LeaseTable.Refusal.EXPIRED
                            ? SettleResult.Reason.EXPIRED : SettleResult.Reason.UNKNOWN));
                    continue;
                }
                switch (how) {
                    case ACK -> {
                        markDone(l.id);
                        acked.increment();
                    }
                    case NACK -> {
                        available += leases.release(l, now, millis);
                        nacked.increment();
                    }
                    case RENEW -> leases.renew(l, now + millis);
                }
                accepted++;
            }
            if (how == Settlement.ACK && accepted > 0) {
                changes.incrementAndGet();
            }
        } catch (RuntimeException | InternalError | AssertionError e) {
            abandon("settle", e);
            throw StoreException.of("settling leases of queue '" + name + "'", e, dir);
        } finally {
            afterPull();
        }
        if (available > 0) {
            events.available(this, available);
        }
        return new SettleResult.Settled(accepted, rejected);
    }

    /** Called back at a deadline: expired leases and ended delays become available (or dead letters). */
    void expireDue() {
        int available;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            scheduledDeadline = Long.MAX_VALUE;
            available = leases.expire(clock.millis());
        } finally {
            afterPull();
        }
        if (available > 0) {
            events.available(this, available);
        }
    }

    /** Starts a consuming call (under the lock): refused if the queue takes no changes; else marks what undoes it. */
    private void begin() {
        fence.check();
        unsynced.mark(mark, cursor);
    }

    /** A write of a consuming call failed part-way: the queue stops, and the call is undone (see {@link Unsynced}). */
    private void abandon(String what, Throwable cause) {
        if (mark.isSet()) {
            fence.close("a write of a " + what + " failed", cause);
        }
        try {
            if (mark.isSet()) { // else refused before it began (closed, or the fence was shut already)
                unsynced.undo(mark, cursor, log);
            }
        } catch (RuntimeException | InternalError e) {
            LOG.error("queue '{}': undoing the failed {} failed too: {}", name, what, e.toString());
        }
    }

    /**
     * Unlocks after publishing counts, then tells the store about dead letters and the next deadline. Every
     * pull-side operation ends here.
     */
    private void afterPull() {
        boolean dead;
        long deadline;
        try {
            publishLeaseCounts();
            dead = !closed && leases.hasDeadLetters();
            deadline = closed ? Long.MAX_VALUE : leases.nextDeadline();
            boolean schedule = deadline < scheduledDeadline;
            if (schedule) {
                scheduledDeadline = deadline;
            } else {
                deadline = Long.MAX_VALUE;
            }
        } finally {
            lock.unlock();
        }
        if (dead) {
            events.deadLetters(this);
        }
        if (deadline != Long.MAX_VALUE) {
            events.deadline(this, deadline);
        }
    }

    private void publishLeaseCounts() {
        doneAbove = leases.doneCount();
        inFlight = leases.inFlight();
        floor = leases.floor();
        expired = leases.expiredLeases();
    }

    // ---- dead letters ----------------------------------------------------------------------------

    /** Takes the messages waiting to be dead-lettered, with their payloads (the store moves them). */
    List<Queue.DeadLetter> takeDeadLetters() {
        List<Queue.DeadLetter> out = new ArrayList<>();
        lock.lock();
        try {
            if (closed || fence.why() != null) {
                return out;
            }
            for (LeaseTable.DeadLetter d : leases.takeDeadLetters()) {
                byte[] payload = tail.readAt(d.index(), d.id());
                if (payload == null) {
                    markDone(d.id()); // unreadable: nothing to move
                } else {
                    out.add(new Queue.DeadLetter(d.id(), d.deliveries(), payload));
                }
            }
            if (!out.isEmpty()) {
                changes.incrementAndGet();
            }
        } finally {
            afterPull();
        }
        return out;
    }

    /** After the store tried to move a dead letter: done here if it moved, else ready again. */
    void deadLettered(long id, boolean moved) {
        lock.lock();
        try {
            if (closed || fence.why() != null) {
                return;
            }
            if (moved) {
                markDone(id);
                changes.incrementAndGet();
                deadLetterMoves.increment();
            } else {
                leases.deadLetterFailed(id);
            }
        } finally {
            afterPull();
        }
        if (!moved) {
            events.available(this, 1);
        }
    }

    // ---- seek ------------------------------------------------------------------------------------

    /**
     * Moves this reader to just after {@code pos}, forwards or back (a subscription's seek: the replay), without
     * copying anything: a fresh lease table (every lease of the old position is then refused as unknown, delivery
     * counts start again), the sequential read moved, and a snapshot of the empty state written to the reader's log.
     * The log and then the cursor are forced before it returns, so a crash leaves the old position or the new one.
     * The caller holds the store's checkpoint lock (no other snapshot of this log is under way).
     *
     * @param firstIndex where the reader reads next: the index of the entry after {@code pos}, or -1 for the end
     * @return 0; -1 if the reader is closed; {@link #GONE} if the journal no longer has that entry (nothing changed)
     */
    long seek(Cursor.Position pos, long firstIndex, int maxDeliveries) throws java.io.IOException {
        return reposition(pos, firstIndex, maxDeliveries, false);
    }

    /**
     * Moves this reader forward to just after {@code pos} because the retention bounds let the journal go below it:
     * what it acknowledged above the new position and its delivery counts there are kept (its leases are not: those
     * messages come back), and the snapshot and cursor are forced as a seek's are.
     *
     * @return the messages it had not acknowledged at or below {@code pos} (it never receives them), 0 if it was past
     *         {@code pos} already, -1 if it is closed, {@link #GONE} if the journal no longer has that entry
     */
    long skipTo(Cursor.Position pos, long firstIndex, int maxDeliveries) throws java.io.IOException {
        return reposition(pos, firstIndex, maxDeliveries, true);
    }

    /** What {@link #reposition} answers when the journal no longer has the entry to move to (nothing changed). */
    static final long GONE = -2;

    /**
     * The seek and the retention skip. Under the reader's lock throughout (a seek is rare; its consumers wait for its
     * two syncs): the read position is moved first (if the entry is gone, nothing changes), then a snapshot of the
     * new lease state is written to the log and forced, then the cursor is moved and forced. A crash before the
     * cursor's move leaves the old position with a log whose snapshot may hold fewer acknowledgements than it had
     * (delivered again: at least once), never a new position with the old position's acknowledgements above it.
     */
    private long reposition(Cursor.Position pos, long firstIndex, int maxDeliveries, boolean forward)
            throws java.io.IOException {
        long skipped = 0;
        lock.lock();
        mark.clear();
        try {
            if (closed) {
                return -1;
            }
            fence.check();
            if (forward && leases.floor() >= pos.id()) {
                return 0; // past the bound already
            }
            List<Long> keptDone = new ArrayList<>();
            Map<Long, Integer> keptCounts = new java.util.HashMap<>();
            if (forward) {
                long old = leases.floor();
                long doneBelow = 0;
                for (long id : leases.doneIds()) {
                    if (id > pos.id()) {
                        keptDone.add(id);
                    } else {
                        doneBelow++;
                    }
                }
                leases.deliveryCounts().forEach((id, n) -> {
                    if (id > pos.id()) {
                        keptCounts.put(id, n);
                    }
                });
                skipped = Math.max(0, pos.id() - old - (journal.gapIdsAbove(old) - journal.gapIdsAbove(pos.id()))
                        - (owner.addressed.elsewhereAbove(old, subscription)
                        - owner.addressed.elsewhereAbove(pos.id(), subscription)) - doneBelow);
            }
            if (firstIndex >= 0 ? !tail.moveTo(firstIndex) : !tail.moveAfter(pos)) {
                // Deleted under us (retention): put the read position back where the lease table says.
                tail.moveAfter(new Cursor.Position(leases.floorIndex(), leases.floor()));
                return GONE;
            }
            leases = new LeaseTable(pos.id(), pos.index(), maxDeliveries, new Nonces(new java.security.SecureRandom()));
            leases.restore(keptDone, keptCounts);
            log.writeSnapshot(log.beginSnapshot(pos.id(), List.of()), new StateLog.State(pos.id(), keptDone,
                    keptCounts, new java.util.LinkedHashMap<>(), new ArrayList<>()));
            cursor.reset(pos);
            cursor.sync();
            tail.retainFrom(pos.index());
            unsynced = new Unsynced(pos);
            scheduledDeadline = Long.MAX_VALUE;
            changes.incrementAndGet();
        } finally {
            afterPull();
        }
        events.available(this, 1);
        return skipped;
    }

    // ---- sync, snapshots and stats ---------------------------------------------------------------

    /**
     * Forces this reader's cursor and log if they changed since the last force (the syncing thread; a named
     * subscription's, whose files are its own). {@code p} was read before any force of this sync began.
     */
    void forceChanged(Queue.SyncPoint p) throws java.io.IOException {
        forceLock.lock();
        try {
            if (!closed) {
                forceChangedOpen(p);
            }
        } finally {
            forceLock.unlock();
        }
    }

    private void forceChangedOpen(Queue.SyncPoint p) throws java.io.IOException {
        // The log first: acknowledgements above a cursor that reached the disk without them would be delivered
        // again; a log on the disk ahead of its cursor loses nothing.
        if (p.stateEntries() != syncedStateEntries) {
            log.force();
            syncedStateEntries = p.stateEntries();
        }
        if (p.floor() != syncedFloor) {
            cursor.sync();
            syncedFloor = p.floor();
        }
    }

    StateLog log() {
        return log;
    }

    /** A snapshot of this reader's own log (a named subscription's: no keys or gaps), if enough changed. */
    Queue.Snapshot beginOwnSnapshot(boolean force) {
        lock.lock();
        try {
            if (closed || fence.why() != null || !log.wantsSnapshot(stateSize(), force)) {
                return null;
            }
            StateLog.State s = state(new java.util.LinkedHashMap<>(), new ArrayList<>());
            return new Queue.Snapshot(log.beginSnapshot(s.floor(), s.gaps()), s);
        } finally {
            lock.unlock();
        }
    }

    /** Undoes what no good sync covered (a named subscription's, under its lock). */
    void undoUnsyncedLocked() {
        lock.lock();
        try {
            undoUnsynced();
        } finally {
            lock.unlock();
        }
    }

    /** The cursor and the change count together, under the lock: what a sync starting now covers. */
    Queue.SyncPoint syncPoint() {
        lock.lock();
        try {
            // The change count first: every change it counts has written its files, so the journal's end and the
            // log's entries read after it cover them all (read before it, a push that began a new journal file in
            // between could be counted as synced without its file forced).
            long change = changes.get();
            Cursor.Position at = cursor.position();
            long f = floor;
            return new Queue.SyncPoint(change, at, journal.lastIndex(), f, log.mustSyncEntries(), journal.lastId());
        } finally {
            lock.unlock();
        }
    }

    /** A sync of {@code p} succeeded: what it covered can no longer be undone. */
    void synced(Queue.SyncPoint p) {
        lock.lock();
        try {
            unsynced.synced(p.change(), p.cursor());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Undoes what no good sync covered (the queue's fence is closed, under both locks): the cursor goes back to
     * where the last good sync left it, and acks since are logged as undone, so those messages are delivered
     * again after the restart.
     */
    void undoUnsynced() {
        unsynced.undoAll(cursor, log);
    }

    /** Forces the cursor file to the disk (the syncing thread). */
    void force() {
        cursor.sync();
    }

    /** The lease state for a snapshot, with the push side's keys and gaps; under both locks. */
    StateLog.State state(Map<String, IdempotencyWindow.Seen> keys, List<StateLog.Gap> gaps) {
        return new StateLog.State(leases.floor(), leases.doneIds(), leases.deliveryCounts(), keys, gaps);
    }

    /** Entries of lease state a snapshot would write. */
    int stateSize() {
        return leases.doneCount() + leases.inFlight();
    }

    Cursor.Position cursorPosition() {
        lock.lock();
        try {
            return cursor.position();
        } finally {
            lock.unlock();
        }
    }

    /** The id of the last consumed message, as last published (no lock). */
    long floor() {
        return floor;
    }

    /** Messages stored and not acknowledged. */
    long depth() {
        long f = floor;
        return journal.lastId() - f - doneAbove - journal.gapIdsAbove(f) - owner.addressed.elsewhereAbove(f, subscription);
    }

    /** Acknowledged ids above the floor. */
    int doneAbove() {
        return doneAbove;
    }

    int inFlight() {
        return inFlight;
    }

    QueueCounts counts() {
        return new QueueCounts(journal.duplicates(), taken.sum(), delivered.sum(), acked.sum(), nacked.sum(), expired,
                deadLetterMoves.sum(), journal.redriven());
    }

    /** Stops consuming; under the lock. */
    void close() {
        closed = true;
    }

    /** Closes a named subscription's reader and its own files (the queue's own are the queue's to close). */
    void closeOwn() {
        lock.lock();
        forceLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            tail.close();
            log.close();
            try {
                cursor.close();
            } catch (java.io.IOException e) {
                LOG.warn("queue '{}': closing cursor: {}", name, e.toString());
            }
        } finally {
            forceLock.unlock();
            lock.unlock();
        }
    }
}
