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
    private final DateTimeFormatter cycleFileNames;
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
    /** Entries read while opening an intact journal: recovery must not depend on the backlog's size. */
    private int entriesReadAtOpen;

    private Journal(String name, Path dir, QueueMeta meta, SingleChronicleQueue queue, Cursor cursor) {
        this.name = name;
        this.dir = dir;
        this.meta = meta;
        this.queue = queue;
        this.rollCycle = queue.rollCycle();
        this.cycleFileNames = DateTimeFormatter.ofPattern(rollCycle.format()).withZone(ZoneOffset.UTC);
        this.appender = queue.createAppender();
        this.appender.singleThreadedCheckDisabled(true);
        this.tailer = queue.createTailer();
        this.tailer.singleThreadedCheckDisabled(true);
        this.cursor = cursor;
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
    static Journal open(Path dir, QueueMeta meta, StoreConfig config, Cursor.Position fallback) throws IOException {
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
        Journal j = new Journal(name, dir, meta, q, cursor);
        j.entriesReadAtOpen = reads[0];
        try {
            j.recover(pos, end);
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

    /** Appends all or none under the push lock. */
    PushResult append(List<byte[]> payloads) {
        int n = payloads.size();
        pushLock.lock();
        try {
            if (closed) {
                return new PushResult.NoSuchQueue();
            }
            long depth = lastId - consumedId;
            if (depth + n > meta.options().maxLength()) {
                return new PushResult.Full(depth, meta.options().maxLength());
            }
            long first = lastId + 1;
            long id = first;
            for (byte[] p : payloads) {
                writeEntry(id++, p);
            }
            long index = appender.lastIndexAppended();
            cursor.head(index, id - 1);
            lastIndex = index;
            lastId = id - 1;
            return new PushResult.Stored(first, n, Durability.PROCESS);
        } catch (RuntimeException e) {
            throw StoreException.of("push to queue '" + name + "'", e);
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
        long millis = (long) cycle * rollCycle.lengthInMillis();
        return dir.resolve(JOURNAL_DIR).resolve(cycleFileNames.format(Instant.ofEpochMilli(millis)) + ".cq4");
    }

    /**
     * Forces the journal files up to the newest entry, and the cursor, to the disk.
     *
     * @return the last id covered
     */
    long sync(int fromCycle) {
        long id = lastId;
        long index = lastIndex;
        if (index >= 0) {
            int to = rollCycle.toCycle(index);
            for (int c = Math.max(fromCycle, queue.firstCycle()); c <= to; c++) {
                Path f = cycleFile(c);
                if (Files.exists(f)) {
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                        ch.force(false);
                    } catch (IOException e) {
                        throw StoreException.of("sync of queue '" + name + "'", e);
                    }
                }
            }
            try {
                AtomicFile.syncDirectory(dir.resolve(JOURNAL_DIR));
            } catch (IOException e) {
                throw StoreException.of("sync of queue '" + name + "'", e);
            }
        }
        cursor.sync();
        return id;
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
        return new QueueStats(name, last - consumed, meta.options().maxLength(), meta.options().type(),
                meta.createdAt(), last, consumed, bytesOnDisk());
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
            queue.close();
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
