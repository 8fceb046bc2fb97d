package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.storage.AtomicFile;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueStats;
import dev.spool.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One queue: one {@link Journal} (the push side) and its {@link Reader} (today exactly one), composed. The journal's
 * lock orders pushes and the reader's lock everything that consumes, so a push and a pull run in parallel; what
 * needs both (a snapshot, a failed sync, close) takes the push lock first. Nothing here waits for the disk: syncing
 * is the group commit's job, moving dead letters the store's. Opened by {@link Recovery}.
 */
final class Queue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Queue.class);
    static final String CURSOR_FILE = "cursor.dat";

    /** What the queue tells its store, always after its locks are released. */
    interface Events {
        /** Messages became available to a reader (released, expired, a seek); pushes are announced by the store. */
        void available(Reader r, int count);

        /** Messages wait to move to the reader's dead-letter queue ({@link Reader#takeDeadLetters}). */
        void deadLetters(Reader r);

        /** A lease expires or a delay ends at {@code atMillis}: call {@link Reader#expireDue} then. */
        void deadline(Reader r, long atMillis);

        /** The id reservation runs low: call {@link Journal#extendReservation} (it syncs). */
        void reserveIds(Queue q);
    }

    /** A message on its way to the dead-letter queue. */
    record DeadLetter(long id, int deliveries, byte[] payload) {
    }

    /** The copy of the lease state a checkpoint snapshots, and where its snapshot begins in the log. */
    record Snapshot(long begin, StateLog.State state) {
    }

    /** A named subscription: its settings (replaced when paused or resumed) and its reader. */
    static final class Named {
        volatile Subscription.Meta meta;
        final Reader reader;
        final Path dir;

        Named(Subscription.Meta meta, Reader reader, Path dir) {
            this.meta = meta;
            this.reader = reader;
            this.dir = dir;
        }
    }

    /**
     * Where a reader starts: just after {@code after} (its cursor, whose id is its floor), reading the entry at
     * {@code firstIndex} next (-1: whatever follows {@code after}).
     */
    record Place(Cursor.Position after, long firstIndex) {
    }

    /** What a sync is about to make durable, read together under the reader's lock. */
    record SyncPoint(long change, Cursor.Position cursor, long lastIndex, long floor, long stateEntries, long lastId) {
    }

    final String name;
    final Path dir;
    final QueueMeta meta;
    private final Journal journal;
    private final Reader reader;
    private final Cursor cursorFile;
    private final StateLog log;
    private final Quarantine quarantine;
    /** Messages one reader alone receives (redrives); every other reader skips them. */
    final Addressed addressed;
    private final Fence fence;
    /** Counts every change to the files; a sync that read it covers every change up to it. */
    private final AtomicLong changes = new AtomicLong();
    private final int entriesReadAtOpen;
    /** The max-length check of every push: the backlog of the slowest reader (today the one) plus the new ones. */
    private final Journal.Admission fits;
    private final Events events;
    private final Clock clock;
    /** Named subscriptions by name (the queue's own reader is not among them). */
    private final java.util.concurrent.ConcurrentSkipListMap<String, Named> subs =
            new java.util.concurrent.ConcurrentSkipListMap<>();
    private volatile boolean closed;

    Queue(QueueMeta meta, Path dir, Clock clock, Events events, DiskSpace space, Recovery.Recovered r) {
        this.name = meta.name();
        this.meta = meta;
        this.dir = dir;
        this.cursorFile = r.cursorFile();
        this.log = r.log();
        this.quarantine = r.quarantine();
        this.addressed = r.addressed();
        this.entriesReadAtOpen = r.entriesRead();
        this.fence = new Fence(name);
        this.events = events;
        this.clock = clock;
        this.journal = new Journal(name, dir, r.entries(), r.cursorFile(), r.log(), r.keys(), space, clock, fence,
                changes, () -> events.reserveIds(this), r.gaps(), r.lastId(), r.lastIndex(),
                r.lastId() + Journal.ID_BLOCK);
        this.reader = new Reader(this, null, r.entries().reader(), events, journal, r.cursorFile(), r.log(), r.leases(),
                clock, fence, changes);
        long max = meta.options().maxLength();
        this.fits = fresh -> {
            long depth = reader.depth();
            return depth + fresh > max ? new PushResult.Full(depth, max) : null;
        };
    }

    /** Creates the files of a new, empty queue in {@code dir} (which must not exist). */
    static void createFiles(Path dir, QueueMeta meta, ObjectMapper json) throws IOException {
        Files.createDirectories(dir.resolve(EntryFile.DIR));
        meta.write(json, dir);
        try (Cursor c = Cursor.create(dir.resolve(CURSOR_FILE))) {
            c.sync();
        }
        AtomicFile.syncDirectory(dir);
    }

    Journal journal() {
        return journal;
    }

    Reader reader() {
        return reader;
    }

    StateLog log() {
        return log;
    }

    /** Appends all or none, as far as the max length allows; see {@link Journal#append}. */
    Journal.Appended append(List<byte[]> payloads, List<String> keys) {
        return journal.append(payloads, keys, fits);
    }

    /**
     * Appends messages that reader {@code to} alone receives (a redrive: the queue's own dead letters, or a
     * subscription's): their id range is recorded in {@link Addressed} and forced before the append, under the push
     * lock, so every other reader skips them, now and after any seek or restart. The queue's own reader's are admitted
     * as pushes are (its max length); a subscription's count against no max length.
     */
    Journal.Appended appendFor(Reader to, List<byte[]> payloads) {
        journal.lock().lock();
        try {
            long first = journal.lastId() + 1;
            long last = first + payloads.size() - 1;
            try {
                addressed.add(first, last, to.subscription());
            } catch (IOException e) {
                throw StoreException.of("recording a redrive of queue '" + name + "'", e, dir);
            }
            Journal.Appended a = null;
            try {
                a = journal.append(payloads, null, to == reader ? fits : fresh -> null);
                return a;
            } finally {
                if (!(a instanceof Journal.Stored)) {
                    // Not appended: those ids go to the next push, which every reader must receive.
                    try {
                        addressed.cancel(first, last);
                    } catch (IOException e) {
                        fail("undoing a redrive's record failed", e, false);
                    }
                }
            }
        } finally {
            journal.lock().unlock();
        }
    }

    /** Changes made so far (a sync that read this covers them). */
    long changes() {
        return changes.get();
    }

    /** What a sync starting now is to make durable. */
    SyncPoint syncPoint() {
        return reader.syncPoint();
    }

    /**
     * Stops the queue taking changes: a sync failed, so what its files hold is unknown. With {@code
     * undoConsumption} (pulls and acks were waiting for the sync, so none was answered) what no good sync covered
     * is undone: no message whose pull failed is lost; it is delivered again after the restart.
     */
    void fail(String why, Throwable cause, boolean undoConsumption) {
        journal.lock().lock();
        reader.lock().lock();
        try {
            if (closed || !fence.close(why)) {
                return;
            }
            LOG.error("queue '{}' accepts no more changes: {} ({}). What its files hold is unknown (a retried sync "
                    + "proves nothing); restart the broker to re-check them. Pushes being answered now were told their "
                    + "outcome is unknown; {}", name, why, String.valueOf(cause), undoConsumption
                    ? "the pulls and acks not yet answered are undone and delivered again after the restart"
                    : "pulls answered before stay consumed");
            if (undoConsumption) {
                reader.undoUnsynced();
                for (Named n : subs.values()) {
                    n.reader.undoUnsyncedLocked();
                }
            }
        } catch (RuntimeException | InternalError e) {
            LOG.error("queue '{}': undoing the unsynced pulls failed too: {}", name, e.toString());
        } finally {
            reader.lock().unlock();
            journal.lock().unlock();
        }
    }

    /** Why the queue takes no changes, or null while it takes them. */
    String failure() {
        return fence.why();
    }

    /**
     * Copies the lease state and marks its place in the state log, under both locks, if enough was logged since the
     * last snapshot (with {@code force}: if anything was); null otherwise (and for a failed queue, whose log keeps
     * what it has for the restart to re-read). The caller writes the rest with {@link #finishSnapshot}.
     */
    Snapshot beginSnapshot(boolean force) {
        journal.lock().lock();
        reader.lock().lock();
        try {
            if (closed || fence.why() != null) {
                return null;
            }
            if (!log.wantsSnapshot(reader.stateSize() + journal.keyCount(), force)) {
                return null;
            }
            StateLog.State s = reader.state(journal.keysNow(), journal.gaps());
            return new Snapshot(log.beginSnapshot(s.floor(), s.gaps()), s);
        } finally {
            reader.lock().unlock();
            journal.lock().unlock();
        }
    }

    /** Writes a snapshot begun with {@link #beginSnapshot} into the state log and makes it durable. */
    void finishSnapshot(Snapshot s) throws IOException {
        log.finishSnapshot(s.begin(), s.state());
        log.snapshotDurable(s.begin());
    }

    Cursor.Position cursorPosition() {
        return reader.cursorPosition();
    }

    // ---- named subscriptions ----------------------------------------------------------------------

    Named subscription(String sub) {
        return subs.get(sub);
    }

    java.util.Collection<Named> subscriptions() {
        return subs.values();
    }

    /** Opens the subscriptions found in the queue's folder (recovery, before the queue serves). */
    void openSubscriptions(ObjectMapper json, dev.spool.storage.StoreConfig config) throws IOException {
        for (Path d : Subscription.scan(dir)) {
            Subscription.Meta m;
            try {
                m = Subscription.Meta.read(json, d);
            } catch (IOException e) {
                LOG.error("queue '{}': subscription folder {} is unreadable ({}); it is left as it is and not served, "
                        + "and the queue's journal files are all kept until it is repaired or removed (restart then)",
                        name, d, e.getMessage());
                // Held for good: its position is unknown, so no file it may need is deleted.
                journal.entries().newReader(Cursor.NO_INDEX);
                continue;
            }
            subs.put(m.name(), new Named(m, openReader(d, m, config), d));
        }
    }

    /** Opens a subscription's reader from its folder, positioned at its cursor, its log replayed. */
    private Reader openReader(Path d, Subscription.Meta m, dev.spool.storage.StoreConfig config) throws IOException {
        Cursor c = Cursor.open(d.resolve(CURSOR_FILE));
        StateLog sl = null;
        EntryFile.Reader tail = null;
        try {
            Cursor.Position pos = c.position();
            if (!c.isValid()) {
                LOG.error("queue '{}' subscription '{}': cursor file is damaged; it starts again from the queue's "
                        + "oldest message (those it consumed are delivered again)", name, m.name());
                pos = Cursor.Position.START;
                c.reset(pos);
                c.sync();
            }
            sl = StateLog.openIn(m.name(), d.resolve(StateLog.DIR), config, quarantine);
            StateLog.State saved = sl.recover();
            tail = journal.entries().newReader(pos.index());
            if (!tail.moveAfter(pos)) {
                LOG.error("queue '{}' subscription '{}': its position (index {}, id {}) is not in the journal; reading "
                        + "on from the first message after id {}", name, m.name(), Long.toHexString(pos.index()),
                        pos.id(), pos.id());
                tail.skipThrough(pos.id());
            }
            LeaseTable leases = new LeaseTable(pos.id(), pos.index(), m.maxDeliveries(),
                    new Nonces(new java.security.SecureRandom()));
            leases.restore(saved.done(), saved.deliveries());
            leases.forgetAbove(journal.lastId());
            Reader r = new Reader(this, m.name(), tail, events, journal, c, sl, leases, clock, fence, changes);
            r.pause(m.paused());
            return r;
        } catch (IOException | RuntimeException e) {
            if (tail != null) {
                tail.close();
            }
            if (sl != null) {
                sl.close();
            }
            c.close();
            throw e;
        }
    }

    /**
     * Creates subscription {@code m} starting at {@code start}; null if the name is taken, else its reader.
     * The caller serialises administration of the queue.
     */
    Named createSubscription(Subscription.Meta m, dev.spool.storage.SubscriptionStart start, ObjectMapper json,
                             dev.spool.storage.StoreConfig config) throws IOException, BadStart {
        if (subs.containsKey(m.name()) || Files.exists(Subscription.dir(dir, m.name()))) {
            return null; // taken, or a folder of that name not served (unreadable at the start)
        }
        // A reader of its own holds retention back while the place is found and the subscription's reader opens.
        EntryFile.Reader holder = journal.entries().newReader(Cursor.NO_INDEX);
        try {
            Place p = place(holder, start);
            Path d = Subscription.create(dir, m, p.after(), json, config, quarantine);
            Reader r;
            try {
                r = openReader(d, m, config);
            } catch (IOException | RuntimeException e) {
                Subscription.remove(dir, m.name());
                throw e;
            }
            Named n = new Named(m, r, d);
            subs.put(m.name(), n);
            return n;
        } finally {
            holder.close();
        }
    }

    /** Moves a subscription to {@code start} (see {@link Reader#seek}); false if it is closed. */
    boolean seek(Named n, dev.spool.storage.SubscriptionStart start) throws IOException, BadStart {
        EntryFile.Reader holder = journal.entries().newReader(Cursor.NO_INDEX);
        try {
            Place p = place(holder, start);
            long r = n.reader.seek(p.after(), p.firstIndex(), n.meta.maxDeliveries());
            if (r == Reader.GONE) {
                throw new BadStart("the messages at that start were deleted while the seek ran (retention): seek again");
            }
            return r >= 0;
        } finally {
            holder.close();
        }
    }

    /** Pauses or resumes a subscription, durably. */
    void pause(Named n, boolean paused, ObjectMapper json) throws IOException {
        Subscription.Meta m = n.meta.withPaused(paused);
        m.write(json, n.dir);
        n.meta = m;
        n.reader.pause(paused);
        if (!paused) {
            events.available(n.reader, 1);
        }
    }

    /** Closes and removes a subscription; false if there is none of that name. */
    boolean deleteSubscription(String sub) throws IOException {
        Named n = subs.remove(sub);
        if (n == null) {
            return false;
        }
        n.reader.closeOwn();
        Subscription.remove(dir, sub);
        journal.entries().retainNow();
        return true;
    }

    /** The start names no place in the queue. */
    static final class BadStart extends Exception {
        private static final long serialVersionUID = 1L;

        BadStart(String why) {
            super(why, null, false, false);
        }
    }

    /** Where a reader starting at {@code start} is placed, found with {@code t} (a reader holding retention back). */
    private Place place(EntryFile.Reader t, dev.spool.storage.SubscriptionStart start) throws IOException, BadStart {
        long lastId = journal.lastId();
        long first = t.firstIndex();
        long firstId = first < 0 ? -1 : t.idAtIndex(first);
        if (start instanceof dev.spool.storage.SubscriptionStart.Earliest) {
            return first < 0 ? latest(t) : new Place(new Cursor.Position(Cursor.NO_INDEX, Math.max(0, firstId - 1)),
                    first);
        }
        if (start instanceof dev.spool.storage.SubscriptionStart.Latest) {
            return latest(t);
        }
        long id;
        if (start instanceof dev.spool.storage.SubscriptionStart.FromTime ft) {
            id = journal.entries().times().firstIdAtOrAfter(ft.time().toEpochMilli());
            if (id < 0) {
                return latest(t); // after the newest message: from the next one pushed
            }
            if (firstId >= 0 && id < firstId) {
                id = firstId; // before what the queue still holds: from the oldest it holds
            }
        } else {
            id = ((dev.spool.storage.SubscriptionStart.AtId) start).id();
            if (id < 1 || id > lastId + 1) {
                throw new BadStart("id " + id + " is outside queue '" + name + "': its messages have ids up to "
                        + lastId + " (" + (lastId + 1) + " starts at the next message pushed)");
            }
            if (firstId >= 0 && id < firstId) {
                throw new BadStart("message " + id + " is no longer kept in queue '" + name + "': its oldest message "
                        + "is " + firstId);
            }
        }
        long at = t.indexAtOrAfter(id);
        if (at < 0) {
            return latest(t);
        }
        long before = t.previousIndex(at);
        Cursor.Position after = before < 0 ? new Cursor.Position(Cursor.NO_INDEX, Math.max(0, t.idAtIndex(at) - 1))
                : new Cursor.Position(before, t.idAtIndex(before));
        return new Place(after, at);
    }

    /** After the journal's last entry: from the next message pushed. */
    private Place latest(EntryFile.Reader t) {
        long last = journal.lastIndex();
        long lastEntryId = last < 0 ? -1 : t.idAtIndex(last);
        if (lastEntryId < 0) {
            return new Place(new Cursor.Position(Cursor.NO_INDEX, journal.lastId()), -1);
        }
        return new Place(new Cursor.Position(last, lastEntryId), -1);
    }

    /**
     * Applies the retention bounds: the journal files wholly older than {@code maxAge}, or beyond the newest
     * {@code maxBytes} of journal files, may go; every named subscription still positioned in them is moved forward
     * to the first message after them ({@link Reader#skipTo}: what it acknowledged above is kept) and counts the
     * messages it skipped, in its {@code subscription.json}. The queue's own reader is never moved, so a file it still
     * needs stays. The newest file always stays. The queue's own bounds ({@code retention_max_age_seconds},
     * {@code retention_max_bytes} at its creation) override the store's. The store holds its administration and
     * checkpoint locks.
     */
    void enforceRetention(dev.spool.storage.StoreConfig.Retention storeWide, long now, ObjectMapper json)
            throws IOException {
        if (subs.isEmpty()) {
            return;
        }
        dev.spool.storage.QueueOptions o = meta.options();
        dev.spool.storage.StoreConfig.Retention r = new dev.spool.storage.StoreConfig.Retention(
                o.retentionMaxAgeSeconds() > 0 ? java.time.Duration.ofSeconds(o.retentionMaxAgeSeconds())
                        : storeWide.maxAge(),
                o.retentionMaxBytes() > 0 ? o.retentionMaxBytes() : storeWide.maxBytes());
        if (!r.bounded()) {
            return;
        }
        ChronicleFolder folder = journal.entries().folder();
        int[] cycles = folder.cycles();
        int keepFrom = 0;
        if (!r.maxAge().isZero()) {
            long cutoff = now - r.maxAge().toMillis();
            for (int k = 0; k + 1 < cycles.length; k++) {
                // Every entry of cycle k was appended before cycle k+1 began.
                if (folder.startMillis(cycles[k + 1]) <= cutoff) {
                    keepFrom = k + 1;
                }
            }
        }
        if (r.maxBytes() > 0) {
            long total = 0;
            for (int k = cycles.length - 1; k > 0; k--) {
                total += DiskUsage.of(folder.cycleFile(cycles[k]));
                if (total >= r.maxBytes()) {
                    keepFrom = Math.max(keepFrom, k);
                    break;
                }
            }
        }
        if (keepFrom == 0) {
            return;
        }
        EntryFile.Reader holder = journal.entries().newReader(Cursor.NO_INDEX);
        try {
            long first = -1;
            for (int k = keepFrom; k < cycles.length && first < 0; k++) {
                first = holder.idAtIndex(folder.firstIndexOf(cycles[k])) >= 0 ? folder.firstIndexOf(cycles[k]) : -1;
            }
            if (first < 0) {
                return;
            }
            long before = holder.previousIndex(first);
            if (before < 0) {
                return; // nothing before the bound
            }
            Cursor.Position after = new Cursor.Position(before, holder.idAtIndex(before));
            for (Named n : subs.values()) {
                if (n.reader.floor() >= after.id()) {
                    continue;
                }
                long skipped = n.reader.skipTo(after, first, n.meta.maxDeliveries());
                if (skipped == Reader.GONE) {
                    throw new IOException("the journal lost the entry at the retention bound while moving subscription '"
                            + n.meta.name() + "'");
                }
                if (skipped > 0) {
                    Subscription.Meta m = n.meta.withSkipped(skipped);
                    m.write(json, n.dir);
                    n.meta = m;
                    LOG.warn("queue '{}' subscription '{}': {} messages it had not consumed were past the retention "
                            + "bounds (retention.max_age {}, retention.max_bytes {}); it moves on to message id {}",
                            name, m.name(), skipped, r.maxAge(), r.maxBytes(), holder.idAtIndex(first));
                }
            }
        } finally {
            holder.close();
        }
        journal.entries().retainNow();
    }

    /** A named subscription's stats. */
    dev.spool.storage.SubscriptionStats stats(Named n) {
        Reader r = n.reader;
        long floor = r.floor();
        long oldestAge = 0;
        if (r.depth() > 0) {
            try {
                long at = journal.entries().times().appendedAt(floor + 1);
                oldestAge = at < 0 ? 0 : Math.max(0, clock.millis() - at);
            } catch (IOException e) {
                LOG.debug("queue '{}': reading time marks: {}", name, e.toString());
            }
        }
        return new dev.spool.storage.SubscriptionStats(name, n.meta.name(), floor, r.depth(), r.inFlight(), oldestAge,
                n.meta.skipped(), r.paused(), n.meta.createdAt(), n.meta.maxDeliveries(), n.meta.deadLetterQueue(),
                r.counts());
    }

    int entriesReadAtOpen() {
        return entriesReadAtOpen;
    }

    QueueStats stats() {
        long last = journal.lastId();
        long floor = reader.floor();
        long consumed = floor + reader.doneAbove();
        long gapIds = journal.gapIds();
        long gapsAbove = journal.gapIdsAbove(floor);
        long elsewhereAbove = addressed.elsewhereAbove(floor, null);
        long elsewhereBelow = addressed.elsewhereAbove(0, null) - elsewhereAbove;
        return new QueueStats(name, last - consumed - gapsAbove - elsewhereAbove, meta.options().maxLength(),
                meta.options().type(), meta.createdAt(), last - gapIds, consumed - (gapIds - gapsAbove) - elsewhereBelow,
                bytesOnDisk(), reader.inFlight(),
                quarantine.kept().size(), reader.counts(), fence.why());
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

    @Override
    public void close() {
        journal.lock().lock();
        reader.lock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            journal.entries().freezeRetention();
            reader.close();
            for (Named n : subs.values()) {
                n.reader.closeOwn();
            }
            journal.close();
            log.close();
            addressed.close();
            try {
                cursorFile.close();
            } catch (IOException e) {
                LOG.warn("queue '{}': closing cursor: {}", name, e.toString());
            }
        } finally {
            reader.lock().unlock();
            journal.lock().unlock();
        }
    }
}
