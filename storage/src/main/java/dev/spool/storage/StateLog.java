package dev.spool.storage;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * A queue's lease and acknowledgement events, in a second Chronicle Queue beside the journal: each
 * entry is {@code [kind: 1 byte][id: 8][delivery: 4][time ms: 8][key length: 2][key: UTF-8]}. A {@code DONE} entry makes an out-of-order
 * acknowledgement (or a pull past leased messages) durable against kill -9 when it is written;
 * {@code LEASE} entries keep delivery counts across restarts. The in-order case needs no entry: the
 * cursor moves instead. Recovery replays the entries after the last lease snapshot. Not thread-safe:
 * used under the journal's pull lock.
 */
final class StateLog implements AutoCloseable {
    static final String DIR = "state";
    static final byte DONE = 1;
    static final byte LEASE = 2;
    /** An idempotency key, written before the message it names is appended. */
    static final byte KEY = 3;

    private final SingleChronicleQueue queue;
    private final ExcerptAppender appender;
    private volatile long entries;

    StateLog(Path dir, StoreConfig config) {
        queue = Journal.openChronicle(dir.resolve(DIR), config.rollCycle(), config.clock());
        appender = queue.createAppender();
        appender.singleThreadedCheckDisabled(true);
    }

    void append(byte kind, long id, int delivery) {
        append(kind, id, delivery, 0, null);
    }

    /** Appends one entry; synchronized because pushes (keys) and pulls (leases, acks) both write. */
    synchronized void append(byte kind, long id, int delivery, long time, byte[] key) {
        entries++;
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte(kind);
            b.writeLong(id);
            b.writeInt(delivery);
            b.writeLong(time);
            b.writeShort((short) (key == null ? 0 : key.length));
            if (key != null) {
                b.write(key);
            }
        }
    }

    /** Entries appended since opened. */
    long entries() {
        return entries;
    }

    /** An idempotency key seen in the log. */
    record KeyEntry(String key, long id, long time) {
    }

    /** The index of the last entry, or -1 if there is none. */
    long lastIndex() {
        return queue.lastIndex();
    }

    /** Replays the entries after {@code afterIndex} (-1: all) into the sets, ignoring ids at or below floor. */
    void replay(long afterIndex, long floor, Set<Long> done, Map<Long, Integer> deliveries,
                java.util.function.Consumer<KeyEntry> keys) {
        try (ExcerptTailer t = queue.createTailer()) {
            if (afterIndex >= 0) {
                if (!t.moveToIndex(afterIndex)) {
                    t.toStart();
                } else {
                    try (DocumentContext dc = t.readingDocument()) {
                        // Skip the entry the snapshot already covers.
                        dc.isPresent();
                    }
                }
            }
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        return;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    if (b.readRemaining() < 23) {
                        continue;
                    }
                    byte kind = b.readByte();
                    long id = b.readLong();
                    int delivery = b.readInt();
                    long time = b.readLong();
                    int keyLength = b.readUnsignedShort();
                    if (kind == KEY) {
                        byte[] key = new byte[keyLength];
                        b.read(key);
                        keys.accept(new KeyEntry(new String(key, java.nio.charset.StandardCharsets.UTF_8), id, time));
                        continue;
                    }
                    if (id <= floor) {
                        continue;
                    }
                    if (kind == DONE) {
                        done.add(id);
                        deliveries.remove(id);
                    } else if (kind == LEASE && !done.contains(id)) {
                        deliveries.merge(id, delivery, Math::max);
                    }
                }
            }
        }
    }

    /**
     * Deletes the log's files wholly before the cycle of {@code index}: a lease snapshot taken at that
     * index already holds what they said.
     */
    void retainFrom(long index, Path dir) {
        if (index < 0) {
            return;
        }
        var rollCycle = queue.rollCycle();
        int keep = rollCycle.toCycle(index);
        int first = queue.firstCycle();
        if (first >= keep) {
            return;
        }
        boolean deleted = false;
        for (Long c : queue.listCyclesBetween(first, keep - 1)) {
            Path f = dir.resolve(DIR).resolve(Journal.cycleFileName(rollCycle, c));
            try {
                deleted |= java.nio.file.Files.deleteIfExists(f);
            } catch (java.io.IOException e) {
                // Retried at the next checkpoint.
            }
        }
        if (deleted) {
            queue.refreshDirectoryListing();
        }
    }

    /** Forces the log to the disk. */
    void sync(Path dir) {
        Journal.forceAll(dir.resolve(DIR));
    }

    @Override
    public void close() {
        appender.close();
        queue.close();
    }
}
