package dev.spool.storage.journal;

import dev.spool.storage.*;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * A queue's lease and acknowledgement state, in a Chronicle Queue beside the journal ({@code state/}),
 * that compacts itself: it holds events and, from time to time, a snapshot of the whole state, written
 * into the log itself; older files are deleted only once a newer snapshot is durable, and the files
 * from the snapshot before it are kept too, so a damaged snapshot falls back to the previous one.
 * Recovery is the latest intact snapshot plus every event after it; a log that cannot be replayed (its
 * history was deleted behind a damaged snapshot) refuses to open rather than pretend.
 *
 * <p>Entry layout (version 2), little-endian, one Chronicle document each:
 * {@code [magic "SPSL": 4][version: 1][kind: 1][fields][crc32c of all bytes before it: 4]}, where the
 * fields of each kind are:
 * <ul>
 *   <li>{@code CREATED}: none (the first entry of a log: its history is complete from here)</li>
 *   <li>{@code DONE}: id 8 (an acknowledgement above the cursor, durable when written)</li>
 *   <li>{@code LEASE}: id 8, delivery 4 (a delivery count)</li>
 *   <li>{@code KEY}: id 8, time 8, length 2, UTF-8 key (written before the message it names is appended)</li>
 *   <li>{@code SNAP_BEGIN}: floor 8, gap count 4, (first id 8, last id 8) each (the state as of this point;
 *       events after it apply on top)</li>
 *   <li>{@code SNAP_DONE}: count 4, ids 8 each</li>
 *   <li>{@code SNAP_LEASES}: count 4, (id 8, delivery 4) each</li>
 *   <li>{@code SNAP_KEYS}: count 4, (id 8, time 8, length 2, key) each</li>
 *   <li>{@code SNAP_END}: index of its SNAP_BEGIN 8, chunks written 4</li>
 *   <li>{@code GAP}: first id 8, last id 8 (ids no message has: skipped after an unclean stop, handed out,
 *       perhaps, before it, or voided with a batch that failed part-way; never used again, and an entry with
 *       such an id is never delivered)</li>
 *   <li>{@code UNDONE}: id 8 (a {@code DONE} whose sync failed before its call was answered: the message is
 *       delivered again)</li>
 * </ul>
 * A damaged entry (bad magic, version or checksum, or too short) is reported with the file and index.
 *
 * <p>Thread-safe for appends (pushes log keys, pulls log acks and leases); recovery runs before use.
 */
final class StateLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StateLog.class);
    static final String DIR = "state";
    private static final int MAGIC = 0x4c535053; // "SPSL" little-endian
    private static final byte VERSION = 2;
    private static final int FRAME = 4 + 1 + 1 + 4;
    /** Snapshot chunks stay well under Chronicle's document size limit. */
    private static final int CHUNK_BYTES = 64 * 1024;

    enum Kind {
        // Ordinals are written to disk: add kinds at the end only.
        CREATED, DONE, LEASE, KEY, SNAP_BEGIN, SNAP_DONE, SNAP_LEASES, SNAP_KEYS, SNAP_END, GAP, UNDONE;

        private static final Kind[] ALL = values();
    }

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
    private final CRC32C crc = new CRC32C();
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
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        append(Kind.KEY, b -> writeKey(b, k, id, time));
    }

    private static void writeKey(Bytes<?> b, byte[] key, long id, long time) {
        b.writeLong(id);
        b.writeLong(time);
        b.writeShort((short) key.length);
        b.write(key);
    }

    private interface Fields {
        void write(Bytes<?> b);
    }

    private synchronized long append(Kind kind, Fields fields) {
        Faults.at(Faults.Point.STATE_ENTRY);
        entries++;
        if (kind != Kind.LEASE) {
            mustSync++;
        }
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            long start = b.writePosition();
            b.writeInt(MAGIC);
            b.writeByte(VERSION);
            b.writeByte((byte) kind.ordinal());
            fields.write(b);
            b.writeInt(checksum(b, start, b.writePosition(), crc));
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
                    writeKey(b, keys.get(j).getKey().getBytes(StandardCharsets.UTF_8), keys.get(j).getValue().id(),
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
                        Kind kind = check(dc.wire().bytes());
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
                        Kind kind = check(dc.wire().bytes());
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
            long id = b.readLong();
            long time = b.readLong();
            byte[] key = new byte[b.readUnsignedShort()];
            b.read(key);
            // The latest use wins: a key reused after its window names the newer message.
            String k = new String(key, StandardCharsets.UTF_8);
            s.keys().remove(k);
            s.keys().put(k, new IdempotencyWindow.Seen(id, time));
        }
    }

    /** Whether the bytes at the read position begin with this format's magic number. */
    static boolean hasMagic(Bytes<?> b) {
        return b.readRemaining() >= 4 && b.readInt(b.readPosition()) == MAGIC;
    }

    /** The CRC32C of the bytes {@code [from, to)}: what an entry's last four bytes hold. */
    private static int checksum(Bytes<?> b, long from, long to, CRC32C crc) {
        crc.reset();
        for (long p = from; p < to; p++) {
            crc.update(b.readByte(p));
        }
        return (int) crc.getValue();
    }

    /** The kind of an intact entry (its read position then at its fields), or null if it is damaged. */
    private Kind check(Bytes<?> b) {
        long start = b.readPosition();
        long end = b.readLimit();
        if (end - start < FRAME || b.readInt(start) != MAGIC || b.readByte(start + 4) != VERSION) {
            return null;
        }
        int kind = b.readByte(start + 5);
        if (kind < 0 || kind >= Kind.ALL.length) {
            return null;
        }
        if (checksum(b, start, end - 4, new CRC32C()) != b.readInt(end - 4)) {
            return null;
        }
        b.readPosition(start + 6);
        b.readLimit(end - 4);
        return Kind.ALL[kind];
    }

    @Override
    public void close() {
        appender.close();
        folder.close();
    }
}
