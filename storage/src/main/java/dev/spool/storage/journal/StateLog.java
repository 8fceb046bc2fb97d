package dev.spool.storage.journal;

import dev.spool.storage.StoreConfig;
import dev.spool.storage.journal.StateCodec.Kind;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A queue's lease and acknowledgement state, in a Chronicle Queue beside the journal ({@code state/}),
 * that compacts itself: it holds events and, from time to time, a snapshot of the whole state, written
 * into the log itself; older files are deleted only once a newer snapshot is durable, and the files
 * from the snapshot before it are kept too, so a damaged snapshot falls back to the previous one.
 * Recovery is the latest intact snapshot plus every event after it; a log that cannot be replayed (its
 * history was deleted behind a damaged snapshot) refuses to open rather than pretend.
 *
 * <p>Entries are laid out by {@link StateCodec}.
 * A damaged entry (bad magic, version or checksum, or too short) is reported with the file and index.
 *
 * <p>Thread-safe for appends (pushes log keys, pulls log acks and leases); recovery runs before use.
 */
final class StateLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StateLog.class);
    static final String DIR = "state";
    /** Snapshot chunks stay well under Chronicle's document size limit. */
    private static final int CHUNK_BYTES = 64 * 1024;

    /** Ids {@code from..to} that no message has (skipped after an unclean stop). */
    record Gap(long from, long to) {
        long size() {
            return to - from + 1;
        }
    }

    /** The lease state the log holds: what recovery returns and a snapshot records. */
    record State(long floor, List<Long> done, Map<Long, Integer> deliveries,
                 Map<String, IdempotencyWindow.Seen> keys, List<Gap> gaps) {
        static State empty() {
            return new State(0, new ArrayList<>(), new HashMap<>(), new LinkedHashMap<>(), new ArrayList<>());
        }
    }

    /** The log's history cannot be replayed; the message names the folder and what to do. */
    static final class UnreplayableException extends IOException {
        private static final long serialVersionUID = 1L;

        UnreplayableException(String message) {
            super(message);
        }
    }

    private final String name;
    private final ChronicleFolder folder;
    private final ExcerptAppender appender;
    private final StateCodec codec = new StateCodec();
    private final Object forceLock = new Object();
    /** The newest cycle forced so far (guarded by forceLock). */
    private int syncedCycle = Integer.MIN_VALUE;
    private volatile long entries;
    /** Entries that a sync must cover before their call is answered: all but delivery counts. */
    private volatile long mustSync;
    private long entriesAtSnapshot;
    /** SNAP_BEGIN index of the newest durable snapshot, and of the one before it (-1: none). */
    private long lastSnapshot = -1;
    private long previousSnapshot = -1;

    private StateLog(String name, ChronicleFolder folder) {
        this.name = name;
        this.folder = folder;
        this.appender = folder.appender();
    }

    /** Opens a queue's state log, creating it (with its CREATED entry) if it has no entry yet. */
    static StateLog open(String name, Path queueDir, StoreConfig config, Quarantine quarantine) throws IOException {
        LegacyStateLog.upgradeIfNeeded(name, queueDir, config, quarantine);
        return openIn(name, queueDir.resolve(DIR), config, quarantine);
    }

    /** Opens (creating) a state log in {@code folder} as it is, without upgrading anything. */
    static StateLog openIn(String name, Path folder, StoreConfig config, Quarantine quarantine) throws IOException {
        StateLog log = new StateLog(name, ChronicleFolder.open(folder, config.rollCycle(), config.clock(), quarantine));
        if (log.folder.lastIndex() < 0) {
            log.append(Kind.CREATED, b -> { });
            log.force();
        }
        return log;
    }

    ChronicleFolder folder() {
        return folder;
    }

    /** Entries appended since opened. */
    long entries() {
        return entries;
    }

    /**
     * Entries appended since opened that a waiting call needs on disk (the syncer forces the log only when
     * this moved). Delivery counts ({@code LEASE}) are not among them: they reach the disk with the next
     * sync of the log for any other reason, so under {@code fsync: always} a power cut can undercount a
     * delivery or two (a message may then be delivered that many more times before it is dead-lettered).
     */
    long mustSyncEntries() {
        return mustSync;
    }

    void done(long id) {
        append(Kind.DONE, b -> b.writeLong(id));
    }

    void undone(long id) {
        append(Kind.UNDONE, b -> b.writeLong(id));
    }

    void lease(long id, int delivery) {
        append(Kind.LEASE, b -> {
            b.writeLong(id);
            b.writeInt(delivery);
        });
    }

    void gap(Gap g) {
        append(Kind.GAP, b -> {
            b.writeLong(g.from());
            b.writeLong(g.to());
        });
    }

    void key(String key, long id, long time) {
        append(Kind.KEY, b -> StateCodec.writeKey(b, key, id, time));
    }

    private synchronized long append(Kind kind, StateCodec.Fields fields) {
        Faults.at(Faults.Point.STATE_ENTRY);
        entries++;
        if (kind != Kind.LEASE) {
            mustSync++;
        }
        try (DocumentContext dc = appender.writingDocument()) {
            codec.write(dc.wire().bytes(), kind, fields);
        }
        return appender.lastIndexAppended();
    }

    /**
     * Starts a snapshot of {@code floor}: the caller holds the queue's locks, so no event falls between
     * the state it copied and this entry.
     *
     * @return the index to pass to {@link #finishSnapshot}
     */
    long beginSnapshot(long floor, List<Gap> gaps) {
        return append(Kind.SNAP_BEGIN, b -> {
            b.writeLong(floor);
            b.writeInt(gaps.size());
            for (Gap g : gaps) {
                b.writeLong(g.from());
                b.writeLong(g.to());
            }
        });
    }

    /** {@link #finishSnapshot} then {@link #snapshotDurable}: the snapshot written and forced. */
    void writeSnapshot(long begin, State s) throws IOException {
        finishSnapshot(begin, s);
        snapshotDurable(begin);
    }

    /** Writes the copied state after its SNAP_BEGIN and the closing SNAP_END (events may interleave). */
    void finishSnapshot(long begin, State s) {
        int chunks = 0;
        List<Long> done = s.done();
        for (int i = 0; i < done.size(); ) {
            int n = Math.min(done.size() - i, CHUNK_BYTES / 8);
            int from = i;
            append(Kind.SNAP_DONE, b -> {
                b.writeInt(n);
                for (int j = from; j < from + n; j++) {
                    b.writeLong(done.get(j));
                }
            });
            i += n;
            chunks++;
        }
        List<Map.Entry<Long, Integer>> leases = new ArrayList<>(s.deliveries().entrySet());
        for (int i = 0; i < leases.size(); ) {
            int n = Math.min(leases.size() - i, CHUNK_BYTES / 12);
            int from = i;
            append(Kind.SNAP_LEASES, b -> {
                b.writeInt(n);
                for (int j = from; j < from + n; j++) {
                    b.writeLong(leases.get(j).getKey());
                    b.writeInt(leases.get(j).getValue());
                }
            });
            i += n;
            chunks++;
        }
        List<Map.Entry<String, IdempotencyWindow.Seen>> keys = new ArrayList<>(s.keys().entrySet());
        for (int i = 0; i < keys.size(); ) {
            int from = i;
            int size = 0;
            while (i < keys.size() && size < CHUNK_BYTES) {
                size += 18 + keys.get(i).getKey().length() * 3;
                i++;
            }
            int to = i;
            append(Kind.SNAP_KEYS, b -> {
                b.writeInt(to - from);
                for (int j = from; j < to; j++) {
                    StateCodec.writeKey(b, keys.get(j).getKey(), keys.get(j).getValue().id(),
                            keys.get(j).getValue().time());
                }
            });
            chunks++;
        }
        int total = chunks;
        append(Kind.SNAP_END, b -> {
            b.writeLong(begin);
            b.writeInt(total);
        });
    }

    /**
     * After {@link #finishSnapshot}: forces the log to the disk, then deletes the files wholly before
     * the previous snapshot (the newest two stay replayable).
     */
    void snapshotDurable(long begin) throws IOException {
        Faults.at(Faults.Point.SNAPSHOT);
        force();
        synchronized (this) {
            previousSnapshot = lastSnapshot;
            lastSnapshot = begin;
            entriesAtSnapshot = entries;
        }
        if (previousSnapshot >= 0) {
            folder.deleteBefore(folder.cycleOf(previousSnapshot));
        }
    }

    /**
     * Whether to write a snapshot now: anything was logged since the last one and, unless {@code any},
     * enough that writing {@code stateSize} entries' worth pays off (so snapshots cost O(1) per event).
     */
    synchronized boolean wantsSnapshot(int stateSize, boolean any) {
        long since = entries - entriesAtSnapshot;
        return since > 0 && (any || since >= Math.max(1024, stateSize));
    }

    /**
     * Forces the log's files to the disk: the cycles written since the last force, and the folder only when
     * a new cycle file appeared. Appends go on meanwhile (they do not take this lock).
     */
    void force() throws IOException {
        Faults.at(Faults.Point.STATE_SYNC);
        synchronized (forceLock) {
            long last = folder.lastIndex();
            folder.force(syncedCycle, last);
            syncedCycle = Math.max(syncedCycle, folder.cycleOf(last));
        }
    }

    /**
     * Replays the log: the newest intact snapshot, then every event after it.
     *
     * @throws UnreplayableException if no intact snapshot exists and the log's beginning was deleted
     */
    State recover() throws UnreplayableException {
        Scan scan = new Scan();
        scan.run();
        if (scan.damaged > 0) {
            LOG.error("queue '{}': {} damaged state-log entries in {} (first at index {} in {}); the acknowledgements "
                    + "or keys they held are lost, so those messages may be delivered again", name, scan.damaged,
                    folder.folder(), Long.toHexString(scan.firstDamaged),
                    folder.cycleFile(folder.cycleOf(scan.firstDamaged)).getFileName());
        }
        long from;
        if (!scan.complete.isEmpty()) {
            from = scan.complete.get(scan.complete.size() - 1);
            if (scan.complete.size() > 1) {
                previousSnapshot = scan.complete.get(scan.complete.size() - 2);
            }
            lastSnapshot = from;
            if (scan.lastIncomplete > from) {
                LOG.error("queue '{}': the newest state-log snapshot in {} is damaged; recovering from the one before "
                        + "it and the events after that", name, folder.folder());
            }
        } else if (scan.fromCreation) {
            from = -1;
            if (scan.lastIncomplete >= 0) {
                LOG.error("queue '{}': the state-log snapshot in {} is damaged; replaying the whole log from its "
                        + "creation", name, folder.folder());
            }
        } else {
            throw new UnreplayableException("queue '" + name + "': the state log in " + folder.folder()
                    + " cannot be replayed: it holds no intact snapshot and its beginning is gone (first entry at "
                    + folder.cycleFile(folder.cycleOf(scan.firstIndex)).getFileName() + "), so acknowledgements "
                    + "above the cursor are unknown. To start anyway, accepting that acknowledged messages may be "
                    + "delivered again, move the folder aside: mv '" + folder.folder() + "' '" + folder.folder()
                    + ".discarded'");
        }
        return scan.replay(from);
    }

    /** Reading the log: one pass finds the snapshots, a second applies from the chosen one. */
    private final class Scan {
        final List<Long> complete = new ArrayList<>();
        long lastIncomplete = -1;
        int damaged;
        long firstDamaged = -1;
        long firstIndex = -1;
        boolean fromCreation;

        void run() {
            long openBegin = -1;
            int chunks = 0;
            boolean chunksIntact = true;
            try (ExcerptTailer t = folder.tailer()) {
                while (true) {
                    try (DocumentContext dc = t.readingDocument()) {
                        if (!dc.isPresent()) {
                            break;
                        }
                        long index = dc.index();
                        if (firstIndex < 0) {
                            firstIndex = index;
                        }
                        Kind kind = StateCodec.check(dc.wire().bytes());
                        if (kind == null) {
                            damaged++;
                            if (firstDamaged < 0) {
                                firstDamaged = index;
                            }
                            chunksIntact = false;
                            continue;
                        }
                        if (index == firstIndex && kind == Kind.CREATED) {
                            fromCreation = true;
                        }
                        Bytes<?> b = dc.wire().bytes();
                        switch (kind) {
                            case SNAP_BEGIN -> {
                                openBegin = index;
                                chunks = 0;
                                chunksIntact = true;
                            }
                            case SNAP_DONE, SNAP_LEASES, SNAP_KEYS -> chunks++;
                            case SNAP_END -> {
                                long begin = b.readLong();
                                int expected = b.readInt();
                                if (begin == openBegin && chunks == expected && chunksIntact) {
                                    complete.add(begin);
                                } else {
                                    lastIncomplete = Math.max(lastIncomplete, begin);
                                }
                                openBegin = -1;
                            }
                            default -> { }
                        }
                    }
                }
            }
            if (openBegin >= 0) {
                // A snapshot a crash cut short: never used, the previous one stands.
                LOG.info("queue '{}': the last state-log snapshot was not finished before the stop; using the one before",
                        name);
            }
        }

        State replay(long fromBegin) {
            State s = State.empty();
            TreeSet<Long> done = new TreeSet<>();
            try (ExcerptTailer t = folder.tailer()) {
                if (fromBegin >= 0 && !t.moveToIndex(fromBegin)) {
                    throw new IllegalStateException("snapshot at " + Long.toHexString(fromBegin) + " vanished");
                }
                long floor = 0;
                boolean inSnapshot = false;
                while (true) {
                    try (DocumentContext dc = t.readingDocument()) {
                        if (!dc.isPresent()) {
                            break;
                        }
                        Kind kind = StateCodec.check(dc.wire().bytes());
                        if (kind == null) {
                            continue;
                        }
                        Bytes<?> b = dc.wire().bytes();
                        switch (kind) {
                            case SNAP_BEGIN -> {
                                if (dc.index() == fromBegin) {
                                    floor = b.readLong();
                                    for (int n = b.readInt(); n > 0; n--) {
                                        s.gaps().add(new Gap(b.readLong(), b.readLong()));
                                    }
                                    inSnapshot = true;
                                }
                            }
                            case SNAP_END -> inSnapshot = inSnapshot && b.readLong() != fromBegin;
                            case SNAP_DONE -> {
                                if (inSnapshot) {
                                    for (int n = b.readInt(); n > 0; n--) {
                                        done.add(b.readLong());
                                    }
                                }
                            }
                            case SNAP_LEASES -> {
                                if (inSnapshot) {
                                    for (int n = b.readInt(); n > 0; n--) {
                                        s.deliveries().merge(b.readLong(), b.readInt(), Math::max);
                                    }
                                }
                            }
                            case SNAP_KEYS -> {
                                if (inSnapshot) {
                                    for (int n = b.readInt(); n > 0; n--) {
                                        readKey(b, s);
                                    }
                                }
                            }
                            case DONE -> {
                                long id = b.readLong();
                                done.add(id);
                                s.deliveries().remove(id);
                            }
                            case LEASE -> {
                                long id = b.readLong();
                                int delivery = b.readInt();
                                if (!done.contains(id)) {
                                    s.deliveries().merge(id, delivery, Math::max);
                                }
                            }
                            case UNDONE -> done.remove(b.readLong());
                            case KEY -> readKey(b, s);
                            case GAP -> s.gaps().add(new Gap(b.readLong(), b.readLong()));
                            case CREATED -> { }
                        }
                    }
                }
                s.done().addAll(done);
                return new State(floor, s.done(), s.deliveries(), s.keys(), new ArrayList<>(
                        new LinkedHashSet<>(s.gaps())));
            }
        }

        private void readKey(Bytes<?> b, State s) {
            StateCodec.Key k = StateCodec.readKey(b);
            // The latest use wins: a key reused after its window names the newer message.
            s.keys().remove(k.key());
            s.keys().put(k.key(), new IdempotencyWindow.Seen(k.id(), k.time()));
        }
    }

    @Override
    public void close() {
        appender.close();
        folder.close();
    }
}
