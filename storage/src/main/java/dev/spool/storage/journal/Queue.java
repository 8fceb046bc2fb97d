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
    /** Its named subscriptions. */
    private final Subscriptions subs;
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
        this.subs = new Subscriptions(this, journal, quarantine, events, clock, fence, changes);
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
                for (Named n : subs.all()) {
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
        log.writeSnapshot(s.begin(), s.state());
    }

    Cursor.Position cursorPosition() {
        return reader.cursorPosition();
    }

    // ---- named subscriptions (see Subscriptions) ------------------------------------------------------

    Named subscription(String sub) {
        return subs.get(sub);
    }

    java.util.Collection<Named> subscriptions() {
        return subs.all();
    }

    /** Opens the subscriptions found in the queue's folder (recovery, before the queue serves). */
    void openSubscriptions(ObjectMapper json, dev.spool.storage.StoreConfig config) throws IOException {
        subs.open(json, config);
    }

    /** Creates subscription {@code m} at {@code start}; null if the name is taken. See {@link Subscriptions#create}. */
    Named createSubscription(Subscription.Meta m, dev.spool.storage.SubscriptionStart start, ObjectMapper json,
                             dev.spool.storage.StoreConfig config) throws IOException, BadStart {
        return subs.create(m, start, json, config);
    }

    boolean seek(Named n, dev.spool.storage.SubscriptionStart start) throws IOException, BadStart {
        return subs.seek(n, start);
    }

    void pause(Named n, boolean paused, ObjectMapper json) throws IOException {
        subs.pause(n, paused, json);
    }

    boolean deleteSubscription(String sub) throws IOException {
        return subs.delete(sub);
    }

    void enforceRetention(dev.spool.storage.StoreConfig.Retention storeWide, long now, ObjectMapper json)
            throws IOException {
        subs.enforceRetention(storeWide, now, json);
    }

    dev.spool.storage.SubscriptionStats stats(Named n) {
        return subs.stats(n);
    }

    /** The start names no place in the queue. */
    static final class BadStart extends Exception {
        private static final long serialVersionUID = 1L;

        BadStart(String why) {
            super(why, null, false, false);
        }
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
            for (Named n : subs.all()) {
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
