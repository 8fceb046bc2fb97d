package dev.spool.storage.journal;

import net.openhft.chronicle.bytes.Bytes;

import java.util.zip.CRC32C;

/**
 * The one place that knows a journal entry's byte layout: {@code [id: 8 bytes][crc32c of payload: 4
 * bytes][payload]}, little-endian (Chronicle's byte order). A reader is a flyweight: {@link #read} fills
 * its fields from one entry, so a read loop allocates nothing but the payload it copies out.
 *
 * <p>Not thread-safe: each reading or writing thread has its own instance.
 */
final class EntryCodec {
    /** Bytes before the payload. */
    static final int HEADER = 12;

    private final CRC32C crc = new CRC32C();
    private long id;
    private byte[] payload;
    private boolean intact;

    /** Writes one entry. */
    void write(Bytes<?> out, long entryId, byte[] entryPayload) {
        out.writeLong(entryId);
        out.writeInt(checksum(entryPayload, 0, entryPayload.length));
        out.write(entryPayload);
    }

    /**
     * Reads the entry at the bytes' read position: afterwards {@link #id()}, {@link #intact()} and (when
     * {@code copy} is set and the entry is intact) {@link #payload()} describe it.
     *
     * @return false if the bytes are too short to hold an entry header
     */
    boolean read(Bytes<?> in, boolean copy) {
        payload = null;
        intact = false;
        if (in.readRemaining() < HEADER) {
            id = -1;
            return false;
        }
        id = in.readLong();
        int expected = in.readInt();
        int len = (int) in.readRemaining();
        byte[] bytes = new byte[len];
        in.read(bytes);
        intact = checksum(bytes, 0, len) == expected;
        if (intact && copy) {
            payload = bytes;
        }
        return true;
    }

    /** Reads only the id of the entry at the read position, or -1 if the bytes are too short. */
    static long peekId(Bytes<?> in) {
        return in.readRemaining() < HEADER ? -1 : in.readLong(in.readPosition());
    }

    long id() {
        return id;
    }

    /** The payload of the last intact entry read with {@code copy}; null otherwise. */
    byte[] payload() {
        return payload;
    }

    /** Whether the last entry read matched its checksum. */
    boolean intact() {
        return intact;
    }

    private int checksum(byte[] b, int off, int len) {
        crc.reset();
        crc.update(b, off, len);
        return (int) crc.getValue();
    }
}
