package dev.spool.storage;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * One queue: an append-only Chronicle Queue journal plus its durable {@link Cursor}.
 *
 * <p>Each journal entry is {@code [id: 8 bytes][crc32c of payload: 4 bytes][payload]}, little-endian.
 * Ids are consecutive from 1, so the depth is {@code lastId - cursor id} and recovery needs to read
 * only the last entry and the cursor's entry, whatever the backlog.
 *
 * <p>Thread safety: pushes are serialised by {@code pushLock}, pulls by {@code pullLock}; a push and a
 * pull run in parallel. {@link #close()} takes both.
 */
final class Journal implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    static final String JOURNAL_DIR = "journal";
    static final String CURSOR_FILE = "cursor.dat";
    private static final int HEADER = 12;

    final String name;
    final Path dir;
    final QueueMeta meta;
    private final SingleChronicleQueue queue;
    private final RollCycle rollCycle;
    private final ExcerptAppender appender;
    private final ExcerptTailer tailer;
    private final Cursor cursor;
    private final ReentrantLock pushLock = new ReentrantLock();
    private final ReentrantLock pullLock = new ReentrantLock();
    private final CRC32C pushCrc = new CRC32C();
    private final CRC32C pullCrc = new CRC32C();
    final Object syncMonitor = new Object();

    private volatile long lastIndex;
    private volatile long lastId;
    private volatile long consumedId;
    private volatile boolean closed;
    private int retainedFromCycle = Integer.MIN_VALUE;

    // Lease state, all guarded by pullLock. Ids in (consumedId, readId] are each exactly one of: done
    // (acknowledged out of order), leased (in flight), ready (to be delivered again), or delayed (released
    // with a delay: in inflight with no valid token).
    private final StateLog stateLog;
    private final ExcerptTailer randomTailer;
    private final DeadLetterSink deadLetters;
    private Clock clock = Clock.systemUTC();
    private FileChannel syncChannel;
    private int syncChannelCycle;
    private final java.util.TreeSet<Long> ready = new java.util.TreeSet<>();
    private final java.util.HashMap<Long, Lease> inflight = new java.util.HashMap<>();
    private final java.util.PriorityQueue<Lease> expiries =
            new java.util.PriorityQueue<>(java.util.Comparator.comparingLong(l -> l.expiresAt));
    private final java.util.HashMap<Long, Integer> deliveries = new java.util.HashMap<>();
    private final java.util.HashMap<Long, Long> indexOf = new java.util.HashMap<>();
    private final java.util.TreeSet<Long> doneAbove = new java.util.TreeSet<>();
    private final java.security.SecureRandom nonces = new java.security.SecureRandom();
    private final java.util.ArrayList<long[]> pendingDead = new java.util.ArrayList<>();
    private volatile int pendingDeadCount;
    private long readId;
    private volatile int doneAboveCount;
    /** Idempotency keys of the window, oldest first: key -> {id, time}. Guarded by pushLock. */
    private final java.util.LinkedHashMap<String, long[]> keys = new java.util.LinkedHashMap<>();
    private long windowMillis = StoreConfig.DEFAULT_IDEMPOTENCY_WINDOW.toMillis();

    /** One delivery under a lease (or a delayed release when {@code nonce} is 0). */
    private static final class Lease {
        final long id;
        final int delivery;
        final long nonce;
        long expiresAt;

        Lease(long id, int delivery, long nonce, long expiresAt) {
            this.id = id;
            this.delivery = delivery;
            this.nonce = nonce;
            this.expiresAt = expiresAt;
        }
    }

    /** Where dead letters go: the store appends them to the dead-letter queue. */
    interface DeadLetterSink {
        /** Stores the message in the dead-letter queue; false if it could not (it stays here, ready). */
        boolean deadLetter(Journal from, long id, int deliveries, byte[] payload);
    }
    /** Entries read while opening an intact journal: recovery must not depend on the backlog's size. */
    private int entriesReadAtOpen;

    private Journal(String name, Path dir, QueueMeta meta, SingleChronicleQueue queue, Cursor cursor,
                    StateLog stateLog, DeadLetterSink deadLetters) {
        this.name = name;
        this.dir = dir;
        this.meta = meta;
        this.queue = queue;
        this.rollCycle = queue.rollCycle();
        this.appender = queue.createAppender();
        this.appender.singleThreadedCheckDisabled(true);
        this.tailer = queue.createTailer();
        this.tailer.singleThreadedCheckDisabled(true);
        this.randomTailer = queue.createTailer();
        this.randomTailer.singleThreadedCheckDisabled(true);
        this.cursor = cursor;
        this.stateLog = stateLog;
        this.deadLetters = deadLetters;
    }

    static SingleChronicleQueue openChronicle(Path journalDir, JournalRollCycle cycle, Clock clock) {
        RollCycle rc = switch (cycle) {
            case DAILY -> RollCycles.FAST_DAILY;
            case HOURLY -> RollCycles.FAST_HOURLY;
            case SECONDLY -> TestRollCycles.TEST_SECONDLY;
        };
        return SingleChronicleQueueBuilder.binary(journalDir.toFile())
                .rollCycle(rc)
                .timeProvider(clock::millis)
                .build();
    }

    /** Creates the files of a new, empty queue in {@code dir} (which must not exist). */
    static void createFiles(Path dir, QueueMeta meta, com.fasterxml.jackson.databind.ObjectMapper json)
            throws IOException {
        Files.createDirectories(dir.resolve(JOURNAL_DIR));
        meta.write(json, dir);
        try (Cursor c = Cursor.create(dir.resolve(CURSOR_FILE))) {
            c.sync();
        }
        AtomicFile.syncDirectory(dir);
    }

    /**
     * Opens a queue's files and reconciles the cursor with the journal. The journal's end is checked
     * against the write head in O(1); only a damaged journal is read whole (and rebuilt).
     *
     * @param fallback the cursor from the checkpoint, used only when the cursor file is damaged
     */
    static Journal open(Path dir, QueueMeta meta, StoreConfig config, Cursor.Position fallback,
                        DeadLetterSink deadLetters) throws IOException {
        String name = meta.name();
        Cursor cursor = Cursor.open(dir.resolve(CURSOR_FILE));
        Cursor.Position pos = cursor.position();
        if (!cursor.isValid()) {
            pos = fallback == null ? Cursor.Position.START : fallback;
            LOG.error("queue '{}': cursor file {} is damaged; recovering from the checkpoint's cursor {} "
                    + "(messages pulled after that checkpoint may be delivered again)", name,
                    dir.resolve(CURSOR_FILE), pos);
            cursor.reset(pos);
        }
        Path journalDir = dir.resolve(JOURNAL_DIR);
        SingleChronicleQueue q = openChronicle(journalDir, config.rollCycle(), config.clock());
        int[] reads = new int[1];
        Cursor.Position end;
        try {
            end = TailCheck.verify(q, cursor.recoveredHead(), reads);
        } catch (RuntimeException | AssertionError e) {
            q.close();
            throw e;
        }
        if (end == null) {
            q.close();
            LOG.error("queue '{}': the journal's tail is torn or damaged (it does not end at the last "
                    + "acknowledged message, id {}); rebuilding it from its intact entries", name,
                    cursor.recoveredHead() == null ? "unknown" : cursor.recoveredHead().id());
            long lastIntact = TailCheck.rebuild(journalDir, config, pos.id(), name);
            pos = new Cursor.Position(Cursor.NO_INDEX, pos.id());
            cursor.reset(pos);
            q = openChronicle(journalDir, config.rollCycle(), config.clock());
            end = new Cursor.Position(q.lastIndex(), lastIntact);
        }
        Journal j = new Journal(name, dir, meta, q, cursor, new StateLog(dir, config), deadLetters);
        j.entriesReadAtOpen = reads[0];
        j.clock = config.clock();
        j.windowMillis = config.idempotencyWindow().toMillis();
        try {
            j.recover(pos, end);
            j.recoverLeases();
        } catch (RuntimeException e) {
            j.close();
            throw e;
        }
        return j;
    }

    private void recover(Cursor.Position pos, Cursor.Position end) {
        long last = end.id();
        if (!positionTailer(pos)) {
            LOG.error("queue '{}': cursor (index {}, id {}) is not in the journal; scanning the journal for the "
                    + "first message after id {}", name, Long.toHexString(pos.index()), pos.id(), pos.id());
            scanTo(pos.id());
        }
        if (last < pos.id()) {
            LOG.error("queue '{}': journal ends at id {} but the cursor is at id {}: the journal tail was lost; "
                    + "new messages continue from id {}", name, last, pos.id(), pos.id() + 1);
            last = pos.id();
        }
        cursor.head(end.index(), last);
        lastId = last;
        lastIndex = end.index();
        consumedId = pos.id();
        readId = pos.id();
        retainedFromCycle = pos.index() == Cursor.NO_INDEX ? Integer.MIN_VALUE : rollCycle.toCycle(pos.index());
    }

    /** Positions the tailer just after the consumed entry; false if that entry is not where the cursor says. */
    private boolean positionTailer(Cursor.Position pos) {
        if (pos.index() == Cursor.NO_INDEX) {
            tailer.toStart();
            return true;
        }
        if (!tailer.moveToIndex(pos.index())) {
            return false;
        }
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return false;
            }
            entriesReadAtOpen++;
            long id = dc.wire().bytes().readLong();
            if (id != pos.id()) {
                dc.rollbackOnClose();
                return false;
            }
        }
        return true;
    }

    /** Slow path for a damaged cursor: reads from the start up to the first entry after {@code id}. */
    private void scanTo(long id) {
        tailer.toStart();
        while (true) {
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) {
                    return;
                }
                if (dc.wire().bytes().readLong() > id) {
                    dc.rollbackOnClose();
                    return;
                }
            }
        }
    }

    /** Reads and checks the crc of the rest of an entry; copies the payload into {@code out} if given. */
    static boolean checkEntry(Bytes<?> b, byte[][] out, CRC32C crc) {
        if (b.readRemaining() < 4) {
            return false;
        }
        int expected = b.readInt();
        int len = (int) b.readRemaining();
        byte[] payload = new byte[len];
        b.read(payload);
        crc.reset();
        crc.update(payload, 0, len);
        if ((int) crc.getValue() != expected) {
            return false;
        }
        if (out != null) {
            out[0] = payload;
        }
        return true;
    }

    /**
     * Appends all or none under the push lock. A message whose idempotency key (same position in
     * {@code keyList}, null for none) was seen within the window is not stored: its original id is
     * returned instead. A key is logged before its message is appended, so a stored message never
     * lacks its key after a crash.
     */
    PushResult append(List<byte[]> payloads, List<String> keyList) {
        int n = payloads.size();
        pushLock.lock();
        try {
            if (closed) {
                return new PushResult.NoSuchQueue();
            }
            long now = clock.millis();
            long[] ids = null;
            int fresh = n;
            if (keyList != null) {
                forgetOldKeys(now);
                ids = new long[n];
                java.util.Map<String, Long> inBatch = new java.util.HashMap<>();
                long next = lastId + 1;
                fresh = 0;
                for (int i = 0; i < n; i++) {
                    String k = keyList.get(i);
                    long[] seen = k == null ? null : keys.get(k);
                    Long batchId = k == null ? null : inBatch.get(k);
                    if (seen != null) {
                        ids[i] = seen[0];
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
            long depth = lastId - consumedId - doneAboveCount;
            if (depth + fresh > meta.options().maxLength()) {
                return new PushResult.Full(depth, meta.options().maxLength());
            }
            long first = lastId + 1;
            long id = first;
            for (int i = 0; i < n; i++) {
                if (ids != null && ids[i] != id) {
                    continue; // a duplicate: stored before
                }
                String k = keyList == null ? null : keyList.get(i);
                if (k != null && !keys.containsKey(k)) {
                    stateLog.append(StateLog.KEY, id, 0, now,
                            k.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    keys.put(k, new long[] {id, now});
                }
                writeEntry(id++, payloads.get(i));
            }
            if (fresh > 0) {
                long index = appender.lastIndexAppended();
                cursor.head(index, id - 1);
                lastIndex = index;
                lastId = id - 1;
            }
            return ids == null ? new PushResult.Stored(first, n, Durability.PROCESS)
                    : new PushResult.Stored(first, n, Durability.PROCESS, ids, n - fresh);
        } catch (RuntimeException e) {
            throw StoreException.of("push to queue '" + name + "'", e);
        } finally {
            pushLock.unlock();
        }
    }

    private void forgetOldKeys(long now) {
        var it = keys.values().iterator();
        while (it.hasNext()) {
            long[] v = it.next();
            if (v[1] > now - windowMillis && keys.size() <= StoreConfig.MAX_IDEMPOTENCY_KEYS) {
                return;
            }
            it.remove();
        }
    }

    /** The keys of the window, for the lease snapshot. */
    java.util.Map<String, long[]> keySnapshot() {
        pushLock.lock();
        try {
            forgetOldKeys(clock.millis());
            return new java.util.LinkedHashMap<>(keys);
        } finally {
            pushLock.unlock();
        }
    }

    private void writeEntry(long id, byte[] payload) {
        pushCrc.reset();
        pushCrc.update(payload, 0, payload.length);
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeLong(id);
            b.writeInt((int) pushCrc.getValue());
            b.write(payload);
        }
    }

    /** Pulls the oldest entry; corrupt entries are logged and skipped, never returned. */
    PullResult pull(boolean syncCursor) {
        pullLock.lock();
        try {
            if (closed) {
                return new PullResult.NoSuchQueue();
            }
            if (!simple()) {
                return pullLeased(syncCursor);
            }
            byte[][] out = new byte[1][];
            while (consumedId < lastId) {
                long id;
                long index;
                boolean intact;
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (!dc.isPresent()) {
                        LOG.error("queue '{}': journal ends before id {} though {} was stored; treating as empty",
                                name, consumedId + 1, lastId);
                        return new PullResult.Empty();
                    }
                    index = dc.index();
                    Bytes<?> b = dc.wire().bytes();
                    id = b.readLong();
                    intact = checkEntry(b, out, pullCrc);
                }
                cursor.advance(index, id);
                if (syncCursor) {
                    cursor.sync();
                }
                consumedId = id;
                readId = id;
                retain(index);
                if (intact) {
                    return new PullResult.Message(id, out[0]);
                }
                LOG.error("queue '{}': entry id {} (index {}) is corrupt (checksum mismatch); skipped",
                        name, id, Long.toHexString(index));
            }
            return new PullResult.Empty();
        } catch (RuntimeException e) {
            throw StoreException.of("pull from queue '" + name + "'", e);
        } finally {
            pullLock.unlock();
        }
    }

    /** Deletes journal files whose cycle is wholly behind the cursor. */
    private void retain(long consumedIndex) {
        int cycle = rollCycle.toCycle(consumedIndex);
        if (cycle <= retainedFromCycle) {
            return;
        }
        retainedFromCycle = cycle;
        int first = queue.firstCycle();
        if (first >= cycle) {
            return;
        }
        boolean deleted = false;
        for (Long c : queue.listCyclesBetween(first, cycle - 1)) {
            Path f = cycleFile(c.intValue());
            try {
                deleted |= Files.deleteIfExists(f);
            } catch (IOException e) {
                LOG.warn("queue '{}': could not delete consumed journal file {}: {}", name, f, e.toString());
            }
        }
        if (deleted) {
            queue.refreshDirectoryListing();
        }
    }

    Path cycleFile(int cycle) {
        return dir.resolve(JOURNAL_DIR).resolve(cycleFileName(rollCycle, cycle));
    }

    /** The name Chronicle gives the file of a cycle (the journal's and the state log's). */
    static String cycleFileName(RollCycle rollCycle, long cycle) {
        long millis = cycle * rollCycle.lengthInMillis();
        return DateTimeFormatter.ofPattern(rollCycle.format()).withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(millis)) + ".cq4";
    }

    /**
     * Forces the journal files up to the newest entry, and the cursor, to the disk.
     *
     * @return the last id covered
     */
    long sync(int fromCycle, boolean cursorDirty, boolean stateDirty) {
        long id = lastId;
        long index = lastIndex;
        if (index >= 0) {
            int to = rollCycle.toCycle(index);
            for (int c = Math.max(fromCycle, queue.firstCycle()); c <= to; c++) {
                try {
                    FileChannel ch = syncChannel(c);
                    if (ch != null) {
                        ch.force(false);
                    }
                } catch (IOException e) {
                    throw StoreException.of("sync of queue '" + name + "'", e);
                }
            }
            if (to != fromCycle) {
                // A new cycle file: its directory entry must be durable too.
                try {
                    AtomicFile.syncDirectory(dir.resolve(JOURNAL_DIR));
                } catch (IOException e) {
                    throw StoreException.of("sync of queue '" + name + "'", e);
                }
            }
        }
        if (cursorDirty) {
            cursor.sync();
        }
        if (stateDirty) {
            stateLog.sync(dir);
        }
        return id;
    }

    /** An open channel on a cycle's file for fsync, kept for the newest cycle (the syncer's only thread). */
    private FileChannel syncChannel(int cycle) throws IOException {
        if (syncChannel != null && syncChannelCycle == cycle) {
            return syncChannel;
        }
        Path f = cycleFile(cycle);
        if (!Files.exists(f)) {
            return null;
        }
        if (syncChannel != null) {
            syncChannel.close();
        }
        syncChannel = FileChannel.open(f, StandardOpenOption.WRITE);
        syncChannelCycle = cycle;
        return syncChannel;
    }

    /** State-log entries written so far (the syncer syncs the log only when this moved). */
    long stateEntries() {
        return stateLog.entries();
    }

    /** Forces every journal file in a folder (small folders only: the state log). */
    static void forceAll(Path folder) {
        try (var files = Files.list(folder)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.toString().endsWith(".cq4")) {
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                        ch.force(false);
                    }
                }
            }
        } catch (IOException e) {
            throw StoreException.of("sync of " + folder, e);
        }
    }

    int cycleOf(long index) {
        return index < 0 ? Integer.MIN_VALUE : rollCycle.toCycle(index);
    }

    long lastIndex() {
        return lastIndex;
    }

    long lastId() {
        return lastId;
    }

    long consumedId() {
        return consumedId;
    }

    Cursor.Position cursorPosition() {
        pullLock.lock();
        try {
            return cursor.position();
        } finally {
            pullLock.unlock();
        }
    }

    int entriesReadAtOpen() {
        return entriesReadAtOpen;
    }

    boolean isClosed() {
        return closed;
    }

    QueueStats stats() {
        long consumed = consumedId;
        long last = lastId;
        int doneAbove = doneAboveCount;
        return new QueueStats(name, last - consumed - doneAbove, meta.options().maxLength(), meta.options().type(),
                meta.createdAt(), last, consumed + doneAbove, bytesOnDisk());
    }

    private long bytesOnDisk() {
        try {
            return DiskUsage.of(dir);
        } catch (IOException | java.io.UncheckedIOException e) {
            // A file may vanish under us (retention, deletion); stats are best effort.
            LOG.debug("queue '{}': could not measure disk use: {}", name, e.toString());
            return 0;
        }
    }


    // ---- leases -------------------------------------------------------------------------------------

    /** No lease state: pulls take the fast path (read at the cursor, move it). */
    private boolean simple() {
        return inflight.isEmpty() && ready.isEmpty() && doneAbove.isEmpty() && readId == consumedId;
    }

    /** A message taken from the queue for delivery: id, journal index, payload (null if corrupt). */
    private record Taken(long id, long index, byte[] payload) {
    }

    /** The oldest message that is neither done nor leased, or null. Expired leases come back first. */
    private Taken nextAvailable(long now) {
        expire(now);
        while (!ready.isEmpty()) {
            long id = ready.pollFirst();
            long index = indexOf.get(id);
            byte[] payload = readAt(index, id);
            if (payload != null) {
                return new Taken(id, index, payload);
            }
            markDone(id, index);
        }
        byte[][] out = new byte[1][];
        while (readId < lastId) {
            long id;
            long index;
            boolean intact;
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) {
                    return null;
                }
                index = dc.index();
                Bytes<?> b = dc.wire().bytes();
                id = b.readLong();
                intact = checkEntry(b, out, pullCrc);
            }
            readId = id;
            if (doneAbove.contains(id)) {
                indexOf.put(id, index);
                continue;
            }
            indexOf.put(id, index);
            if (intact) {
                return new Taken(id, index, out[0]);
            }
            LOG.error("queue '{}': entry id {} (index {}) is corrupt (checksum mismatch); skipped",
                    name, id, Long.toHexString(index));
            markDone(id, index);
        }
        return null;
    }

    private byte[] readAt(long index, long id) {
        if (!randomTailer.moveToIndex(index)) {
            LOG.error("queue '{}': message id {} is no longer in the journal; skipped", name, id);
            return null;
        }
        byte[][] out = new byte[1][];
        try (DocumentContext dc = randomTailer.readingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            if (!dc.isPresent() || b.readLong() != id || !checkEntry(b, out, pullCrc)) {
                LOG.error("queue '{}': message id {} is corrupt; skipped", name, id);
                return null;
            }
        }
        return out[0];
    }

    /** Marks a message acknowledged for good: moves the cursor if it is the oldest, else logs it. */
    private void markDone(long id, long index) {
        inflight.remove(id);
        deliveries.remove(id);
        if (id == consumedId + 1) {
            advanceFloor(id, index);
            while (!doneAbove.isEmpty() && doneAbove.first() == consumedId + 1) {
                long next = doneAbove.first();
                Long nextIndex = indexFor(next);
                if (nextIndex == null) {
                    break;
                }
                doneAbove.pollFirst();
                advanceFloor(next, nextIndex);
            }
            doneAboveCount = doneAbove.size();
        } else {
            stateLog.append(StateLog.DONE, id, 0);
            doneAbove.add(id);
            doneAboveCount = doneAbove.size();
        }
    }

    /** The journal index of an id at or just past the read position (read ahead if needed), or null. */
    private Long indexFor(long id) {
        Long known = indexOf.get(id);
        if (known != null || id != readId + 1) {
            return known;
        }
        try (DocumentContext dc = tailer.readingDocument()) {
            if (!dc.isPresent()) {
                return null;
            }
            long read = dc.wire().bytes().readLong();
            if (read != id) {
                dc.rollbackOnClose();
                return null;
            }
            readId = id;
            return dc.index();
        }
    }

    private void advanceFloor(long id, long index) {
        indexOf.remove(id);
        cursor.advance(index, id);
        consumedId = id;
        retain(index);
    }

    /** Moves expired leases back to ready, or to the dead-letter queue after max_deliveries. */
    private void expire(long now) {
        while (!expiries.isEmpty() && expiries.peek().expiresAt <= now) {
            Lease l = expiries.poll();
            if (inflight.get(l.id) != l) {
                continue; // acknowledged, renewed or released since
            }
            inflight.remove(l.id);
            makeAvailable(l.id);
        }
    }

    private void makeAvailable(long id) {
        int max = meta.options().maxDeliveries();
        int delivered = deliveries.getOrDefault(id, 0);
        if (max > 0 && delivered >= max) {
            // Moved after the pull lock is released (the dead-letter queue has locks of its own); until
            // then it is neither ready nor leased.
            pendingDead.add(new long[] {id, delivered});
            pendingDeadCount = pendingDead.size();
        } else {
            ready.add(id);
        }
    }

    /**
     * Appends pending dead letters to the dead-letter queue, then marks them done here. A crash between
     * the two leaves a message in both queues (at least once), never in neither.
     */
    void flushDeadLetters() {
        if (pendingDeadCount == 0) {
            return;
        }
        java.util.List<long[]> todo;
        java.util.List<byte[]> payloads = new java.util.ArrayList<>();
        pullLock.lock();
        try {
            todo = new java.util.ArrayList<>(pendingDead);
            pendingDead.clear();
            pendingDeadCount = 0;
            for (long[] d : todo) {
                payloads.add(readAt(indexOf.get(d[0]), d[0]));
            }
        } finally {
            pullLock.unlock();
        }
        for (int i = 0; i < todo.size(); i++) {
            long id = todo.get(i)[0];
            boolean moved = payloads.get(i) == null;
            if (!moved) {
                try {
                    moved = deadLetters.deadLetter(this, id, (int) todo.get(i)[1], payloads.get(i));
                } catch (RuntimeException e) {
                    LOG.error("queue '{}': moving message {} to the dead-letter queue failed: {}", name, id, e.toString());
                }
            }
            pullLock.lock();
            try {
                if (closed) {
                    return;
                }
                if (moved) {
                    markDone(id, indexOf.get(id));
                } else {
                    ready.add(id);
                }
            } finally {
                pullLock.unlock();
            }
        }
    }

    /** Destructive pull when leases exist: the oldest message not leased, acknowledged at once. */
    private PullResult pullLeased(boolean syncCursor) {
        Taken t = nextAvailable(clock.millis());
        if (t == null) {
            return new PullResult.Empty();
        }
        markDone(t.id(), t.index());
        if (syncCursor) {
            cursor.sync();
            stateLog.sync(dir);
        }
        return new PullResult.Message(t.id(), t.payload());
    }

    /** Leases up to {@code max} messages for {@code visibilityMillis}. */
    LeaseResult lease(int max, long visibilityMillis, long now, boolean sync) {
        pullLock.lock();
        try {
            if (closed) {
                return new LeaseResult.NoSuchQueue();
            }
            java.util.List<Leased> out = new java.util.ArrayList<>();
            while (out.size() < max) {
                Taken t = nextAvailable(now);
                if (t == null) {
                    break;
                }
                int delivery = deliveries.merge(t.id(), 1, Integer::sum);
                long nonce = nonces.nextLong() | 1L;
                Lease l = new Lease(t.id(), delivery, nonce, now + visibilityMillis);
                inflight.put(t.id(), l);
                expiries.add(l);
                stateLog.append(StateLog.LEASE, t.id(), delivery);
                out.add(new Leased(t.id(), token(l), delivery, t.payload()));
            }
            if (sync && !out.isEmpty()) {
                stateLog.sync(dir);
            }
            return new LeaseResult.Granted(out);
        } catch (RuntimeException e) {
            throw StoreException.of("lease from queue '" + name + "'", e);
        } finally {
            pullLock.unlock();
        }
    }

    /** What to do with a valid lease. */
    enum Settle { ACK, NACK, RENEW }

    /** Acknowledges, releases (after {@code millis}) or renews (for {@code millis}) leases. */
    SettleResult settle(Settle how, java.util.List<String> tokens, long millis, long now, boolean sync) {
        pullLock.lock();
        try {
            if (closed) {
                return SettleResult.noSuchQueue();
            }
            expire(now);
            int accepted = 0;
            java.util.List<SettleResult.Rejected> rejected = new java.util.ArrayList<>();
            for (String token : tokens) {
                long[] parsed = parseToken(token);
                Lease l = parsed == null ? null : inflight.get(parsed[0]);
                if (l == null || l.nonce == 0 || l.delivery != parsed[1] || l.nonce != parsed[2]) {
                    boolean known = parsed != null && parsed[0] > consumedId && parsed[0] <= readId
                            && !doneAbove.contains(parsed[0]);
                    rejected.add(new SettleResult.Rejected(token, known
                            ? SettleResult.Reason.EXPIRED : SettleResult.Reason.UNKNOWN));
                    continue;
                }
                switch (how) {
                    case ACK -> markDone(l.id, indexOf.get(l.id));
                    case RENEW -> {
                        // Out of the heap before its key changes, or the heap's order breaks.
                        expiries.remove(l);
                        l.expiresAt = now + millis;
                        expiries.add(l);
                    }
                    case NACK -> {
                        inflight.remove(l.id);
                        if (millis <= 0) {
                            makeAvailable(l.id);
                        } else {
                            Lease delayed = new Lease(l.id, l.delivery, 0, now + millis);
                            inflight.put(l.id, delayed);
                            expiries.add(delayed);
                        }
                    }
                }
                accepted++;
            }
            if (sync && how == Settle.ACK && accepted > 0) {
                cursor.sync();
                stateLog.sync(dir);
            }
            return new SettleResult(accepted, rejected, false);
        } catch (RuntimeException e) {
            throw StoreException.of("settling leases of queue '" + name + "'", e);
        } finally {
            pullLock.unlock();
        }
    }

    private static String token(Lease l) {
        return Long.toString(l.id, 36) + "." + Integer.toString(l.delivery, 36) + "." + Long.toUnsignedString(l.nonce, 36);
    }

    private static long[] parseToken(String token) {
        if (token == null) {
            return null;
        }
        String[] p = token.split("\\.");
        if (p.length != 3) {
            return null;
        }
        try {
            return new long[] {Long.parseLong(p[0], 36), Integer.parseInt(p[1], 36), Long.parseUnsignedLong(p[2], 36)};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Leased and delayed messages now (for stats). */
    int inFlight() {
        pullLock.lock();
        try {
            return inflight.size();
        } finally {
            pullLock.unlock();
        }
    }

    /** The lease state worth keeping across a restart: done ids above the cursor and delivery counts. */
    record LeaseSnapshot(long stateIndex, long floor, java.util.List<Long> done, java.util.Map<Long, Integer> deliveries,
                         java.util.Map<String, long[]> keys) {
    }

    /** After a snapshot at {@code index} is on disk: drops the state-log files it makes redundant. */
    void snapshotWritten(long index) {
        pullLock.lock();
        try {
            if (!closed) {
                stateLog.retainFrom(index, dir);
            }
        } finally {
            pullLock.unlock();
        }
    }

    LeaseSnapshot leaseSnapshot() {
        pullLock.lock();
        try {
            return new LeaseSnapshot(stateLog.lastIndex(), consumedId, java.util.List.copyOf(doneAbove),
                    java.util.Map.copyOf(deliveries), keySnapshot());
        } finally {
            pullLock.unlock();
        }
    }

    private void recoverLeases() {
        LeaseSnapshot snap = LeaseSnapshots.read(dir, name);
        long after = -1;
        if (snap != null) {
            after = snap.stateIndex();
            for (long id : snap.done()) {
                if (id > consumedId) {
                    doneAbove.add(id);
                }
            }
            snap.deliveries().forEach((id, n) -> {
                if (id > consumedId) {
                    deliveries.put(id, n);
                }
            });
        }
        if (snap != null) {
            snap.keys().forEach((k, v) -> keys.put(k, v));
        }
        stateLog.replay(after, consumedId, doneAbove, deliveries, e -> {
            // A key logged for a message that was never appended (crash in between) is dropped.
            if (e.id() <= lastId) {
                keys.put(e.key(), new long[] {e.id(), e.time()});
            }
        });
        forgetOldKeys(clock.millis());
        doneAbove.removeIf(id -> id > lastId);
        doneAboveCount = doneAbove.size();
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
            appender.close();
            tailer.close();
            randomTailer.close();
            queue.close();
            stateLog.close();
            if (syncChannel != null) {
                try {
                    syncChannel.close();
                } catch (IOException e) {
                    LOG.warn("queue '{}': closing sync channel: {}", name, e.toString());
                }
            }
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
