package dev.spool.storage.journal;

import dev.spool.storage.*;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One queue: composes its journal ({@link EntryFile}), durable {@link Cursor}, {@link StateLog},
 * {@link LeaseTable} and {@link IdempotencyWindow}, and holds the two locks that order them: pushes
 * are serialised by the push lock, everything that consumes by the pull lock; a push and a pull run in
 * parallel. Nothing here waits for the disk: syncing is the group commit's job, moving dead letters
 * the store's.
 *
 * <p>Ids grow by one per message within a run of the broker. They are handed out under a reservation
 * ({@link Cursor#reserve}) synced ahead of use by the store's thread, a block at a time; after an unclean
 * stop the queue continues above the reservation, so an id answered before a power loss that lost the
 * journal's tail is never given to another message. The ids skipped are a {@link StateLog.Gap}: they
 * count as neither stored nor consumed.
 */
final class Queue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Queue.class);
    static final String CURSOR_FILE = "cursor.dat";
    /** Ids reserved at a time: a synced reservation covers about a second of the fastest pushes. */
    static final long ID_BLOCK = 1 << 20;
    /** Bytes an entry costs beyond its payload (its header, Chronicle's, a share of the index), for the floor. */
    private static final int ENTRY_OVERHEAD = 64;

    /** What the queue tells its store, always after its locks are released. */
    interface Events {
        /** Messages became available (pushed, released, expired, dead-lettered into it). */
        void available(Queue q, int count);

        /** Messages wait to move to the dead-letter queue ({@link #takeDeadLetters}). */
        void deadLetters(Queue q);

        /** A lease expires or a delay ends at {@code atMillis}: call {@link #expireDue} then. */
        void deadline(Queue q, long atMillis);

        /** The id reservation runs low: call {@link #extendReservation} (it syncs). */
        void reserveIds(Queue q);
    }

    /** A message on its way to the dead-letter queue. */
    record DeadLetter(long id, int deliveries, byte[] payload) {
    }

    /** The copy of the lease state a checkpoint snapshots, and where its snapshot begins in the log. */
    record Snapshot(long begin, StateLog.State state) {
    }

    /** What a sync is about to make durable, read together under the pull lock. */
    record SyncPoint(long change, Cursor.Position cursor, long lastIndex, long floor, long stateEntries, long lastId) {
    }

    private record Undo(long change, long id) {
    }

    final String name;
    final Path dir;
    final QueueMeta meta;
    private final EntryFile journal;
    private final Cursor cursor;
    private final StateLog state;
    private final LeaseTable leases;
    private final IdempotencyWindow keys;
    private final Quarantine quarantine;
    private final Clock clock;
    private final Events events;
    private final ReentrantLock pushLock = new ReentrantLock();
    private final ReentrantLock pullLock = new ReentrantLock();
    /** Counts every change to the files; a sync that read it covers every change up to it. */
    private final AtomicLong changes = new AtomicLong();
    private final int entriesReadAtOpen;
    /**
     * Ids no message has: skipped after unclean stops, or voided with their entries when a batch failed part-way
     * (readers skip such entries). Replaced whole under the push lock; read without a lock.
     */
    private volatile List<StateLog.Gap> gaps;
    private final DiskSpace space;
    private volatile long gapIds;
    /** Why the queue stopped taking changes (a sync failed: its files' state is unknown), or null. */
    private volatile String failure;
    /** Acks recorded above the floor since the last good sync, with the change count seen (pull lock). */
    private final ArrayDeque<Undo> undoable = new ArrayDeque<>();
    /** The cursor as the last good sync left it on disk (pull lock). */
    private Cursor.Position durableCursor;
    /** The highest id that may be handed out: synced to the cursor file before it is raised. */
    private volatile long reserved;
    /** Set while the store thread is asked to extend the reservation (guarded by the push lock). */
    private boolean reserving;

    private volatile long lastIndex;
    private volatile long lastId;
    // Counts for metrics since this process opened the queue (see QueueCounts).
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder taken = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder acked = new LongAdder();
    private final LongAdder nacked = new LongAdder();
    private final LongAdder deadLetterMoves = new LongAdder();
    private final LongAdder redriven = new LongAdder();
    /** Leases timed out, published from the lease table under the pull lock. */
    private volatile long expired;
    private volatile long floor;
    private volatile int doneAbove;
    private volatile int inFlight;
    private volatile boolean closed;
    /** The deadline the store was last asked to call back at (guarded by the pull lock). */
    private long scheduledDeadline = Long.MAX_VALUE;

    private Queue(QueueMeta meta, Path dir, EntryFile journal, Cursor cursor, StateLog state, LeaseTable leases,
                  IdempotencyWindow keys, Quarantine quarantine, Clock clock, Events events, int entriesReadAtOpen,
                  List<StateLog.Gap> gaps, DiskSpace space) {
        this.name = meta.name();
        this.meta = meta;
        this.dir = dir;
        this.journal = journal;
        this.cursor = cursor;
        this.state = state;
        this.leases = leases;
        this.keys = keys;
        this.quarantine = quarantine;
        this.clock = clock;
        this.events = events;
        this.entriesReadAtOpen = entriesReadAtOpen;
        this.gaps = List.copyOf(gaps);
        this.space = space;
        this.gapIds = gaps.stream().mapToLong(StateLog.Gap::size).sum();
        this.durableCursor = cursor.position();
    }

    /** Creates the files of a new, empty queue in {@code dir} (which must not exist). */
    static void createFiles(Path dir, QueueMeta meta, ObjectMapper json)
            throws IOException {
        Files.createDirectories(dir.resolve(EntryFile.DIR));
        meta.write(json, dir);
        try (Cursor c = Cursor.create(dir.resolve(CURSOR_FILE))) {
            c.sync();
        }
        AtomicFile.syncDirectory(dir);
    }

    /**
     * Opens a queue's files and reconciles them: the journal's end is checked against the write head in
     * O(1) (only a damaged journal is read whole, and rebuilt), the state log is replayed from its
     * newest snapshot.
     *
     * @param fallback the cursor from the checkpoint, used only when the cursor file is damaged
     */
    static Queue open(Path dir, QueueMeta meta, StoreConfig config, Cursor.Position fallback, Events events,
                      DiskSpace space) throws IOException {
        String name = meta.name();
        Quarantine quarantine = new Quarantine(dir, config.clock());
        Cursor cursor = Cursor.open(dir.resolve(CURSOR_FILE));
        EntryFile journal = null;
        StateLog state = null;
        try {
            Cursor.Position pos = cursor.position();
            if (!cursor.isValid()) {
                pos = fallback == null ? Cursor.Position.START : fallback;
                LOG.error("queue '{}': cursor file {} is damaged; recovering from the checkpoint's cursor {} "
                        + "(messages pulled after that checkpoint may be delivered again)", name,
                        dir.resolve(CURSOR_FILE), pos);
                cursor.reset(pos);
            }
            TailCheck.finishInterrupted(dir, quarantine, name);
            journal = EntryFile.open(name, dir, config, quarantine);
            TailCheck.Counter reads = new TailCheck.Counter();
            Cursor.Position end = TailCheck.verify(journal.folder(), cursor.recoveredHead(), reads);
            if (end == null) {
                journal.close();
                journal = null;
                LOG.error("queue '{}': the journal's tail is torn or damaged (it does not end at the last "
                        + "acknowledged message, id {}); rebuilding it from its intact entries", name,
                        cursor.recoveredHead() == null ? "unknown" : cursor.recoveredHead().id());
                // Entries keep their indexes in the rebuilt journal: the cursor stays as it is.
                long lastIntact = TailCheck.rebuild(dir, config, cursor.recoveredHead(), pos.id(), name, quarantine);
                journal = EntryFile.open(name, dir, config, quarantine);
                end = new Cursor.Position(journal.folder().lastIndex(), lastIntact);
            }
            state = StateLog.open(name, dir, config, quarantine);
            StateLog.State saved = state.recover();
            if (!journal.reader().moveAfter(pos)) {
                LOG.error("queue '{}': cursor (index {}, id {}) is not in the journal; scanning the journal for the "
                        + "first message after id {}", name, Long.toHexString(pos.index()), pos.id(), pos.id());
                journal.reader().skipThrough(pos.id());
            }
            long last = end.id();
            if (last < pos.id()) {
                LOG.error("queue '{}': journal ends at id {} but the cursor is at id {}: the journal tail was lost; "
                        + "new messages continue from id {}", name, last, pos.id(), pos.id() + 1);
                last = pos.id();
            }
            cursor.head(end.index(), last);
            List<StateLog.Gap> gaps = new ArrayList<>(saved.gaps());
            for (StateLog.Gap g : gaps) {
                last = Math.max(last, g.to()); // skipped at an earlier start: handed out as far as messages go
            }
            long reserve = cursor.recoveredReserve();
            if (reserve > last) {
                // An unclean stop: ids up to the reservation may have been answered for messages the journal
                // lost (a power cut under fsync none). None of them is ever used again.
                StateLog.Gap gap = new StateLog.Gap(last + 1, reserve);
                LOG.warn("queue '{}': the broker did not stop cleanly; ids {} to {} are skipped so that no id is used "
                        + "twice, and the next message gets id {}", name, gap.from(), gap.to(), reserve + 1);
                state.gap(gap);
                state.force();
                gaps.add(gap);
                last = reserve;
            }
            cursor.reserve(last + ID_BLOCK);
            cursor.sync();
            LeaseTable leases = new LeaseTable(pos.id(), pos.index(), meta.options().maxDeliveries(),
                    new Nonces(new SecureRandom()));
            leases.restore(saved.done(), saved.deliveries());
            leases.forgetAbove(last);
            IdempotencyWindow keys = new IdempotencyWindow(config.idempotencyWindow().toMillis(),
                    StoreConfig.MAX_IDEMPOTENCY_KEYS);
            long lastStored = last;
            saved.keys().forEach((k, seen) -> {
                // A key logged for a message that was never appended (a crash in between) is dropped.
                if (seen.id() <= lastStored && !inGap(gaps, seen.id())) {
                    keys.remember(k, seen.id(), seen.time());
                }
            });
            keys.expire(config.clock().millis());
            Queue q = new Queue(meta, dir, journal, cursor, state, leases, keys, quarantine, config.clock(), events,
                    reads.get(), gaps, space);
            q.lastId = last;
            q.reserved = last + ID_BLOCK;
            q.lastIndex = end.index();
            q.publishLeaseCounts();
            quarantine.prune();
            return q;
        } catch (IOException | RuntimeException e) {
            if (state != null) {
                state.close();
            }
            if (journal != null) {
                journal.close();
            }
            cursor.close();
            throw e;
        }
    }

    // ---- pushes ---------------------------------------------------------------------------------

    /**
     * Appends all or none. A message whose idempotency key (same position in {@code keyList}, null for
     * none) was seen within the window is not stored: its original id is returned instead. A key is
     * logged before its message is appended, so a stored message never lacks its key after a crash.
     */
    PushResult append(List<byte[]> payloads, List<String> keyList) {
        int n = payloads.size();
        int fresh;
        boolean askIds = false;
        pushLock.lock();
        try {
            if (closed) {
                return new NoSuchQueue(name);
            }
            checkWritable();
            long now = clock.millis();
            long[] ids = null;
            fresh = n;
            if (keyList != null) {
                keys.expire(now);
                ids = new long[n];
                Map<String, Long> inBatch = new HashMap<>();
                long next = lastId + 1;
                fresh = 0;
                for (int i = 0; i < n; i++) {
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
            }
            long depth = depth();
            if (depth + fresh > meta.options().maxLength()) {
                return new PushResult.Full(depth, meta.options().maxLength());
            }
            long bytes = 0;
            for (byte[] p : payloads) {
                bytes += p.length + ENTRY_OVERHEAD;
            }
            if (!space.admit(bytes)) {
                throw space.refusal(name);
            }
            if (lastId + fresh > reserved - ID_BLOCK / 2) {
                askIds = requestIds();
            }
            if (lastId + fresh > reserved) {
                // The store thread has not synced a new reservation yet (only at absurd rates): no id is used
                // before it is reserved durably, and nothing is stored.
                throw new StoreException(StoreException.Code.BUSY, "queue '" + name + "': ids are being reserved; "
                        + "retry", null);
            }
            long first = lastId + 1;
            long id = first;
            long index = lastIndex;
            List<String> keysLogged = null;
            try {
                for (int i = 0; i < n; i++) {
                    if (ids != null && ids[i] != id) {
                        continue; // a duplicate: stored before
                    }
                    String k = keyList == null ? null : keyList.get(i);
                    if (k != null && keys.idOf(k, now) < 0) {
                        if (keysLogged == null) {
                            keysLogged = new ArrayList<>();
                        }
                        keysLogged.add(k);
                        state.key(k, id, now);
                        keys.remember(k, id, now);
                    }
                    if (id > first) {
                        Faults.at(Faults.Point.BATCH_APPEND);
                    }
                    Faults.at(Faults.Point.JOURNAL_APPEND);
                    index = journal.append(id, payloads.get(i));
                    id++;
                }
            } catch (RuntimeException | InternalError e) {
                voidBatch(first, id, keysLogged, e);
                throw e;
            }
            if (fresh > 0) {
                cursor.head(index, id - 1);
                lastIndex = index;
                lastId = id - 1;
                changes.incrementAndGet();
            }
            if (n > fresh) {
                duplicates.add(n - fresh);
            }
            return ids == null ? new PushResult.Stored(first, n, Durability.PROCESS)
                    : new PushResult.Stored(first, n, Durability.PROCESS, ids, n - fresh);
        } catch (RuntimeException | InternalError e) {
            throw StoreException.of("push to queue '" + name + "'", e, dir);
        } finally {
            pushLock.unlock();
            if (askIds) {
                events.reserveIds(this);
            }
        }
    }

    /**
     * A batch failed part-way (a failed write, a fault of the mapping): its entries {@code first..failed-1} may
     * be in the journal, and entry {@code failed} half-written. Their ids become a gap, logged and synced, so
     * readers skip those entries, no id is used again, and their keys are forgotten: for readers the batch was
     * never stored, as its answer says. Under the push lock.
     */
    private void voidBatch(long first, long failed, List<String> keysLogged, Throwable cause) {
        StateLog.Gap gap = new StateLog.Gap(first, failed);
        List<StateLog.Gap> now = new ArrayList<>(gaps);
        now.add(gap);
        gaps = List.copyOf(now);
        gapIds += gap.size();
        lastId = failed;
        try {
            lastIndex = Math.max(lastIndex, journal.folder().lastIndex());
        } catch (RuntimeException e) {
            LOG.debug("queue '{}': last index unknown after a failed append: {}", name, e.toString());
        }
        if (keysLogged != null) {
            for (String k : keysLogged) {
                keys.forget(k, first);
            }
        }
        changes.incrementAndGet();
        try {
            state.gap(gap);
            state.force();
            LOG.error("queue '{}': a push of {} messages failed part-way ({}); ids {} to {} are void: any of their "
                    + "entries in the journal is never delivered, and the push was answered as not stored", name,
                    failed - first + 1, cause.toString(), first, failed);
        } catch (IOException | RuntimeException | InternalError e) {
            fail("recording the void ids " + first + " to " + failed + " of a failed push failed: " + e, false);
        }
    }

    /** Whether an id is void (in a gap): an entry with it is never delivered. */
    private boolean isVoid(long id) {
        List<StateLog.Gap> g = gaps;
        return !g.isEmpty() && inGap(g, id);
    }

    private static boolean inGap(List<StateLog.Gap> gaps, long id) {
        for (StateLog.Gap g : gaps) {
            if (id >= g.from() && id <= g.to()) {
                return true;
            }
        }
        return false;
    }

    /** Marks the reservation as asked for (under the push lock); true if the caller is to ask, after unlocking. */
    private boolean requestIds() {
        if (reserving) {
            return false;
        }
        reserving = true;
        return true;
    }

    /**
     * Reserves the next block of ids and syncs the reservation before publishing it. Runs on the store's
     * thread; the push lock is not held across the sync, so pushes go on meanwhile.
     */
    void extendReservation() {
        long target;
        pushLock.lock();
        try {
            if (closed) {
                return;
            }
            target = lastId + ID_BLOCK;
        } finally {
            pushLock.unlock();
        }
        try {
            cursor.reserve(target);
            cursor.sync();
        } catch (RuntimeException | InternalError e) {
            fail("syncing the id reservation failed: " + e, false);
            return;
        }
        pushLock.lock();
        try {
            reserved = Math.max(reserved, target);
            reserving = false;
        } finally {
            pushLock.unlock();
        }
    }

    // ---- pulls and leases -------------------------------------------------------------------------

    /** Removes and returns up to {@code max} of the oldest messages not leased; null if closed. */
    List<Message> take(int max) {
        List<Message> out = new ArrayList<>(Math.min(max, 1024));
        pullLock.lock();
        try {
            if (closed) {
                return null;
            }
            checkWritable();
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
        } catch (RuntimeException | InternalError e) {
            throw StoreException.of("pull from queue '" + name + "'", e, dir);
        } finally {
            afterPull();
        }
        return out;
    }

    /** The fast path without lease state: read at the floor and move the cursor past it. */
    private Message takeAtFloor() {
        EntryFile.Reader r = journal.reader();
        while (leases.floor() < lastId) {
            if (!r.next()) {
                long floorNow = leases.floor();
                if (lastId - floorNow > gapIdsAbove(floorNow)) {
                    LOG.error("queue '{}': journal ends before id {} though {} was stored; treating as empty",
                            name, floorNow + 1, lastId);
                }
                // Else every id left is void (skipped after an unclean stop): nothing is missing.
                return null;
            }
            EntryCodec e = r.codec();
            advanceFloor(e.id(), r.index());
            if (isVoid(e.id())) {
                continue; // of a batch that failed part-way: never delivered
            }
            if (e.intact()) {
                return new Message(e.id(), e.payload());
            }
            logCorrupt(e.id(), r.index());
        }
        return null;
    }

    private void advanceFloor(long id, long index) {
        leases.consumed(id, index);
        followFloor();
    }

    /** Moves the durable cursor to the lease table's floor, publishes it, and lets retention follow. */
    private void followFloor() {
        cursor.advance(leases.floorIndex(), leases.floor());
        // Published after the cursor write: a sync that reads this floor covers that write.
        floor = leases.floor();
        journal.retainFrom(leases.floorIndex());
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
            byte[] payload = journal.readAt(leases.indexOf(id), id);
            if (payload != null) {
                return new Message(id, payload);
            }
            markDone(id);
        }
        EntryFile.Reader r = journal.reader();
        while (leases.readId() < lastId) {
            if (!r.next()) {
                return null;
            }
            EntryCodec e = r.codec();
            if (isVoid(e.id())) {
                continue; // of a batch that failed part-way: never delivered (the floor passes it with the next)
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
            state.done(id);
            undoable.add(new Undo(changes.get(), id));
        }
    }

    /** Leases up to {@code max} messages for {@code visibilityMillis}; null if closed. */
    List<Leased> lease(int max, long visibilityMillis) {
        List<Leased> out = new ArrayList<>();
        pullLock.lock();
        try {
            if (closed) {
                return null;
            }
            checkWritable();
            long now = clock.millis();
            while (out.size() < max) {
                Message m = nextAvailable(now);
                if (m == null) {
                    break;
                }
                LeaseTable.Lease l = leases.lease(m.id(), now, visibilityMillis);
                state.lease(m.id(), l.delivery);
                out.add(new Leased(m.id(), l.token(), l.delivery, m.payload()));
            }
            if (!out.isEmpty()) {
                changes.incrementAndGet();
                delivered.add(out.size());
            }
        } catch (RuntimeException | InternalError e) {
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
        pullLock.lock();
        try {
            if (closed) {
                return null;
            }
            checkWritable();
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
        } catch (RuntimeException | InternalError e) {
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
        pullLock.lock();
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

    /**
     * Unlocks the pull lock after publishing counts, then tells the store about dead letters and the
     * next deadline. Every pull-side operation ends here.
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
            pullLock.unlock();
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

    /** Counts {@code n} messages moved back into this queue by a redrive. */
    void redriven(long n) {
        redriven.add(n);
    }

    /** The last id stored (for group-commit accounting). */
    long lastId() {
        return lastId;
    }

    /** Takes the messages waiting to be dead-lettered, with their payloads (the store moves them). */
    List<DeadLetter> takeDeadLetters() {
        List<DeadLetter> out = new ArrayList<>();
        pullLock.lock();
        try {
            if (closed || failure != null) {
                return out;
            }
            for (LeaseTable.DeadLetter d : leases.takeDeadLetters()) {
                byte[] payload = journal.readAt(d.index(), d.id());
                if (payload == null) {
                    markDone(d.id()); // unreadable: nothing to move
                } else {
                    out.add(new DeadLetter(d.id(), d.deliveries(), payload));
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
        pullLock.lock();
        try {
            if (closed || failure != null) {
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

    // ---- checkpoints, sync and stats -------------------------------------------------------------

    /**
     * Copies the lease state and marks its place in the state log, under both locks, if enough was logged
     * since the last snapshot (with {@code force}: if anything was); null otherwise. The caller writes the rest with {@link #finishSnapshot}.
     */
    Snapshot beginSnapshot(boolean force) {
        pushLock.lock();
        pullLock.lock();
        try {
            if (closed || failure != null) {
                return null; // a failed queue's state log keeps what it has: the restart re-reads it
            }
            int size = leases.doneCount() + leases.inFlight() + keys.size();
            if (!state.wantsSnapshot(size, force)) {
                return null;
            }
            keys.expire(clock.millis());
            StateLog.State s = new StateLog.State(leases.floor(), leases.doneIds(), leases.deliveryCounts(),
                    keys.snapshot(), gaps);
            return new Snapshot(state.beginSnapshot(leases.floor(), gaps), s);
        } finally {
            pullLock.unlock();
            pushLock.unlock();
        }
    }

    /** Writes a snapshot begun with {@link #beginSnapshot} into the state log and makes it durable. */
    void finishSnapshot(Snapshot s) throws IOException {
        state.finishSnapshot(s.begin(), s.state());
        state.snapshotDurable(s.begin());
    }

    /** Changes made so far (a sync that read this covers them). */
    long changes() {
        return changes.get();
    }

    /**
     * What a sync starting now is to make durable. Read under the pull lock, so the cursor position and the
     * change count agree: every pull counted is in the position, and no pull in the position is uncounted.
     */
    SyncPoint syncPoint() {
        pullLock.lock();
        try {
            long change = changes.get(); // first: every change counted has written its files
            return new SyncPoint(change, cursor.position(), lastIndex, floor, state.mustSyncEntries(), lastId);
        } finally {
            pullLock.unlock();
        }
    }

    /** A sync of {@code p} succeeded: what it covered can no longer be undone. */
    void synced(SyncPoint p) {
        pullLock.lock();
        try {
            durableCursor = p.cursor();
            while (!undoable.isEmpty() && undoable.peek().change() < p.change()) {
                undoable.poll();
            }
        } finally {
            pullLock.unlock();
        }
    }

    /**
     * Stops the queue taking changes: a sync failed, so what its files hold is unknown (after a failed fsync
     * the page cache may have dropped the pages it could not write, and a retried fsync proves nothing). Pushes,
     * pulls, leases and acks are refused until the store opens the queue again (a restart), which re-reads the
     * files. With {@code undoConsumption} (pulls and acks were waiting for the sync, so none was answered) the
     * cursor goes back to where the last good sync left it and acks since are logged as undone: no message whose
     * pull failed is lost; it is delivered again after the restart.
     */
    void fail(String why, boolean undoConsumption) {
        pushLock.lock();
        pullLock.lock();
        try {
            if (failure != null || closed) {
                return;
            }
            failure = why;
            LOG.error("queue '{}' accepts no more changes: {}. What its files hold is unknown (a retried sync proves "
                    + "nothing); restart the broker to re-check them. Pushes being answered now were told their "
                    + "outcome is unknown; {}", name, why, undoConsumption
                    ? "the pulls and acks not yet answered are undone and delivered again after the restart"
                    : "pulls answered before stay consumed");
            if (undoConsumption) {
                Cursor.Position back = durableCursor;
                if (!back.equals(cursor.position())) {
                    cursor.reset(back);
                }
                for (Undo u : undoable) {
                    state.undone(u.id());
                }
                undoable.clear();
            }
        } catch (RuntimeException | InternalError e) {
            LOG.error("queue '{}': undoing the unsynced pulls failed too: {}", name, e.toString());
        } finally {
            pullLock.unlock();
            pushLock.unlock();
        }
    }

    /** Why the queue takes no more changes, or null while it does. */
    String failure() {
        return failure;
    }

    /** Throws if the queue takes no more changes (see {@link #fail}). Under a lock. */
    private void checkWritable() {
        String why = failure;
        if (why != null) {
            throw new StoreException(StoreException.Code.QUEUE_FAILED, "queue '" + name + "' takes no changes since "
                    + why + "; nothing was changed; restart the broker to re-check its files", null);
        }
    }

    long lastIndex() {
        return lastIndex;
    }

    /** Forces the journal (cycles from {@code fromCycle} up to {@code toIndex}) to the disk. */
    void forceJournal(int fromCycle, long toIndex) throws IOException {
        journal.force(fromCycle, toIndex);
    }

    int cycleOf(long index) {
        return journal.folder().cycleOf(index);
    }

    void forceCursor() {
        cursor.sync();
    }

    void forceState() throws IOException {
        state.force();
    }

    /** State-log entries that a group commit must make durable (see {@link StateLog#mustSyncEntries}). */
    long stateEntries() {
        return state.mustSyncEntries();
    }

    /** The id of the last consumed message, as last published (no lock: for the syncer). */
    long floor() {
        return floor;
    }

    Cursor.Position cursorPosition() {
        pullLock.lock();
        try {
            return cursor.position();
        } finally {
            pullLock.unlock();
        }
    }

    /** Messages stored and not acknowledged. */
    private long depth() {
        return lastId - floor - doneAbove - gapIdsAbove(floor);
    }

    /** Skipped ids above {@code id} (gaps are few: one per unclean stop at most). */
    private long gapIdsAbove(long id) {
        long n = 0;
        for (StateLog.Gap g : gaps) {
            if (g.to() > id) {
                n += g.to() - Math.max(g.from(), id + 1) + 1;
            }
        }
        return n;
    }

    int entriesReadAtOpen() {
        return entriesReadAtOpen;
    }

    QueueStats stats() {
        long last = lastId;
        long consumed = floor + doneAbove;
        long gapsAbove = gapIdsAbove(floor);
        return new QueueStats(name, last - consumed - gapsAbove, meta.options().maxLength(), meta.options().type(),
                meta.createdAt(), last - gapIds, consumed - (gapIds - gapsAbove), bytesOnDisk(), inFlight,
                quarantine.kept().size(), new QueueCounts(duplicates.sum(), taken.sum(), delivered.sum(), acked.sum(),
                nacked.sum(), expired, deadLetterMoves.sum(), redriven.sum()), failure);
    }

    private long bytesOnDisk() {
        try {
            return DiskUsage.of(dir);
        } catch (IOException | UncheckedIOException e) {
            // A file may vanish under us (retention, deletion); stats are best effort.
            LOG.debug("queue '{}': could not measure disk use: {}", name, e.toString());
            return 0;
        }
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        pushLock.lock();
        pullLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                // A clean stop: the next start continues right after the last id, without a gap.
                cursor.reserve(lastId);
                cursor.sync();
            } catch (RuntimeException | InternalError e) {
                LOG.error("queue '{}': syncing the cursor file at close failed: {}; the next start skips the ids "
                        + "reserved", name, e.toString());
            }
            journal.close();
            state.close();
            try {
                cursor.close();
            } catch (IOException e) {
                LOG.warn("queue '{}': closing cursor: {}", name, e.toString());
            }
        } finally {
            pullLock.unlock();
            pushLock.unlock();
        }
    }
}
