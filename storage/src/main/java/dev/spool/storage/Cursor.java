package dev.spool.storage;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A queue's durable read cursor (the journal index and id of the last consumed message) and its write
 * head (the index and id of the last appended message), in a small memory-mapped file. The head lets
 * recovery check in O(1) that the journal still ends where it did, and so detect a torn tail. A store into the mapping survives a crash of the process as soon as it is made
 * (the page cache holds it), so {@link #advance} is durable against kill -9 when it returns; {@link #sync}
 * makes it durable against power loss.
 *
 * <p>It also holds the id reservation: the highest id that may have been handed out. It is synced before
 * any id above the old one is used, so a restart after a power loss that lost the journal's tail still
 * continues above every id ever answered, and no id names two different messages.
 *
 * <p>Layout (version 2, little-endian): bytes 0-3 magic {@code SPCU}, 4-7 version, then the cursor's two
 * slots of 32 bytes at offsets 64 and 96, the head's two at 128 and 160 and the reservation's two at 192
 * and 224, each: index, id, check, reserved. Consecutive positions go to alternate slots (by the parity of
 * the id), so a crash while one slot is being written leaves the other one intact; the valid slot with
 * the higher id wins. Version 1 files (192 bytes, no reservation) are read and upgraded in place.
 *
 * <p>Each part has one writer: the cursor the pull side, the head the push side, the reservation the
 * store's thread; they touch different slots of the mapping.
 */
final class Cursor implements AutoCloseable {
    static final long NO_INDEX = -1L;
    private static final int MAGIC = 0x55435053; // "SPCU" little-endian
    private static final int VERSION = 2;
    private static final int V1_SIZE = 192;
    private static final int SIZE = 256;
    private static final int CURSOR_SLOTS = 64;
    private static final int HEAD_SLOTS = 128;
    private static final int RESERVE_SLOTS = 192;
    private static final int SLOT_SIZE = 32;

    /** A decoded cursor position: nothing consumed yet is {@code (NO_INDEX, 0)}. */
    record Position(long index, long id) {
        static final Position START = new Position(NO_INDEX, 0);
    }

    private final FileChannel channel;
    private final MappedByteBuffer map;
    private final boolean valid;
    private Position recoveredHead;
    private long recoveredReserve = -1;
    /** The reservation slot holding the value in force; a new value always goes to the other one. */
    private int reserveSlot;
    private long reserveValue = -1;
    private long index;
    private long id;

    private Cursor(FileChannel channel, MappedByteBuffer map, Position recovered, boolean valid) {
        this.channel = channel;
        this.map = map;
        this.valid = valid;
        this.index = recovered.index();
        this.id = recovered.id();
    }

    /** Creates a fresh cursor file at the start, synced. */
    static Cursor create(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
        map.order(ByteOrder.LITTLE_ENDIAN);
        map.putInt(0, MAGIC);
        map.putInt(4, VERSION);
        Cursor c = new Cursor(ch, map, Position.START, true);
        c.write(Position.START.index(), Position.START.id());
        c.head(Position.START.index(), Position.START.id());
        c.sync();
        return c;
    }

    /** Opens an existing cursor file; {@link #isValid()} tells whether a valid position was found. */
    static Cursor open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        boolean sized = ch.size() >= V1_SIZE;
        MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
        map.order(ByteOrder.LITTLE_ENDIAN);
        int version = map.getInt(4);
        boolean headerOk = sized && map.getInt(0) == MAGIC && (version == VERSION || version == 1);
        Position best = headerOk ? readSlots(map, CURSOR_SLOTS) : null;
        Position head = headerOk ? readSlots(map, HEAD_SLOTS) : null;
        Position reserve = headerOk && version == VERSION ? readSlots(map, RESERVE_SLOTS) : null;
        map.putInt(0, MAGIC);
        map.putInt(4, VERSION);
        Cursor c = best == null ? new Cursor(ch, map, Position.START, false) : new Cursor(ch, map, best, true);
        c.recoveredHead = head;
        c.recoveredReserve = reserve == null ? -1 : reserve.id();
        c.reserveValue = c.recoveredReserve;
        c.reserveSlot = reserve != null && map.getLong(RESERVE_SLOTS + SLOT_SIZE + 8) == reserve.id()
                && map.getLong(RESERVE_SLOTS + SLOT_SIZE + 16) == check(reserve.index(), reserve.id()) ? 1 : 0;
        return c;
    }

    private static Position readSlots(MappedByteBuffer map, int base) {
        Position best = null;
        for (int slot = 0; slot < 2; slot++) {
            int off = base + slot * SLOT_SIZE;
            long idx = map.getLong(off);
            long id = map.getLong(off + 8);
            if (map.getLong(off + 16) == check(idx, id) && id >= 0 && (best == null || id > best.id())) {
                best = new Position(idx, id);
            }
        }
        return best;
    }

    /** The write head found when opened, or null if none was valid (a file older than any push, or damaged). */
    Position recoveredHead() {
        return recoveredHead;
    }

    /** The id reservation found when opened, or -1 if none was valid (a version 1 file, or damaged). */
    long recoveredReserve() {
        return recoveredReserve;
    }

    /**
     * Records that ids up to {@code id} may be handed out; durable after the next {@link #sync}. The value in
     * force is never overwritten: the new one goes to the other slot, and a lower one (a clean stop) then
     * invalidates the higher, so a crash at any point leaves a reservation at least as high as needed.
     */
    void reserve(long id) {
        int target = 1 - reserveSlot;
        int off = RESERVE_SLOTS + target * SLOT_SIZE;
        map.putLong(off + 16, 0L);
        map.putLong(off, 0L);
        map.putLong(off + 8, id);
        map.putLong(off + 16, check(0L, id));
        if (id < reserveValue) {
            map.putLong(RESERVE_SLOTS + reserveSlot * SLOT_SIZE + 16, 0L);
        }
        reserveSlot = target;
        reserveValue = id;
    }

    /** Records the last appended message; called under the journal's push lock. */
    void head(long newIndex, long newId) {
        writeSlot(HEAD_SLOTS, newIndex, newId);
    }

    /** Whether the file held a valid position when opened. */
    boolean isValid() {
        return valid;
    }

    Position position() {
        return new Position(index, id);
    }

    /** The id of the last consumed message (0 before the first). */
    long id() {
        return id;
    }

    /** Records that the message with this journal index and id has been consumed. */
    void advance(long newIndex, long newId) {
        write(newIndex, newId);
    }

    /** Moves the cursor to a position (used by recovery). */
    void reset(Position p) {
        write(p.index(), p.id());
    }

    private void write(long newIndex, long newId) {
        writeSlot(CURSOR_SLOTS, newIndex, newId);
        index = newIndex;
        id = newId;
    }

    private void writeSlot(int base, long newIndex, long newId) {
        int off = base + (int) (newId & 1) * SLOT_SIZE;
        // Invalidate the slot first, so a crash half-way leaves it invalid rather than mixed.
        map.putLong(off + 16, 0L);
        map.putLong(off, newIndex);
        map.putLong(off + 8, newId);
        map.putLong(off + 16, check(newIndex, newId));
    }

    /** Forces the mapping to the disk. */
    void sync() {
        map.force();
    }

    private static long check(long index, long id) {
        long h = index * 0x9E3779B97F4A7C15L ^ Long.rotateLeft(id, 29) ^ 0x5350434C5552534FL;
        return h == 0 ? 1 : h;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

}
