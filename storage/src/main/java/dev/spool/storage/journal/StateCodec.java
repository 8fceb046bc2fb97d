package dev.spool.storage.journal;

import net.openhft.chronicle.bytes.Bytes;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The one place that knows a state-log entry's byte layout (version 2), little-endian, one Chronicle document
 * each: {@code [magic "SPSL": 4][version: 1][kind: 1][fields][crc32c of all bytes before it: 4]}, where the fields
 * of each kind are:
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
 *
 * <p>Not thread-safe: a writer has its own instance (its checksum state); reading needs none.
 */
final class StateCodec {
    private static final int MAGIC = 0x4c535053; // "SPSL" little-endian
    private static final byte VERSION = 2;
    /** Bytes an entry has besides its fields. */
    private static final int FRAME = 4 + 1 + 1 + 4;

    enum Kind {
        // Ordinals are written to disk: add kinds at the end only.
        CREATED, DONE, LEASE, KEY, SNAP_BEGIN, SNAP_DONE, SNAP_LEASES, SNAP_KEYS, SNAP_END, GAP, UNDONE;

        private static final Kind[] ALL = values();
    }

    /** Writes an entry's fields. */
    @FunctionalInterface
    interface Fields {
        void write(Bytes<?> b);
    }

    private final CRC32C crc = new CRC32C();

    /** Writes one entry at the bytes' write position. */
    void write(Bytes<?> b, Kind kind, Fields fields) {
        long start = b.writePosition();
        b.writeInt(MAGIC);
        b.writeByte(VERSION);
        b.writeByte((byte) kind.ordinal());
        fields.write(b);
        b.writeInt(checksum(b, start, b.writePosition(), crc));
    }

    /**
     * The kind of the entry at the read position if it is intact (then the read position is at its fields and the
     * read limit at their end), or null if it is damaged (bad magic, version or checksum, or too short).
     */
    static Kind check(Bytes<?> b) {
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

    /** Whether the bytes at the read position begin with this format's magic number. */
    static boolean hasMagic(Bytes<?> b) {
        return b.readRemaining() >= 4 && b.readInt(b.readPosition()) == MAGIC;
    }

    /** Writes a key's fields: id, time, length, UTF-8 bytes. */
    static void writeKey(Bytes<?> b, String key, long id, long time) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        b.writeLong(id);
        b.writeLong(time);
        b.writeShort((short) k.length);
        b.write(k);
    }

    /** A key's fields as read. */
    record Key(String key, long id, long time) {
    }

    static Key readKey(Bytes<?> b) {
        long id = b.readLong();
        long time = b.readLong();
        byte[] key = new byte[b.readUnsignedShort()];
        b.read(key);
        return new Key(new String(key, StandardCharsets.UTF_8), id, time);
    }

    /** The CRC32C of the bytes {@code [from, to)}: what an entry's last four bytes hold. */
    private static int checksum(Bytes<?> b, long from, long to, CRC32C crc) {
        crc.reset();
        for (long p = from; p < to; p++) {
            crc.update(b.readByte(p));
        }
        return (int) crc.getValue();
    }
}
