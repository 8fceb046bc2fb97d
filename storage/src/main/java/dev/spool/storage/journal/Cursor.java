package dev.spool.storage.journal;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A queue's durable read cursor (the journal index and id of the last consumed message) and its write
 * head (the index and id of the last appended message), in a small memory-mapped file. The head lets
 * recovery check in O(1) that the journal still ends where it did, and so detect a torn tail. A store into
 * the mapping survives a crash of the process as soon as it is made (the page cache holds it), so
 * {@link #advance} is durable against kill -9 when it returns; {@link #sync} makes it durable against power
 * loss.
 *
 * <p>It also holds the id reservation: the highest id that may have been handed out. It is synced before
 * any id above the old one is used, so a restart after a power loss that lost the journal's tail still
 * continues above every id ever answered, and no id names two different messages.
 *
 * <p>Layout (version 3, little-endian): bytes 0-3 magic {@code SPCU}, 4-7 version, then the cursor's two
 * slots of 32 bytes at offsets 64 and 96, the head's two at 128 and 160 and the reservation's two at 192
 * and 224, each: index 8, id 8, check 8, write sequence 8. Each part's writes alternate between its two
 * slots by write sequence, and the valid slot with the higher sequence wins, so a write torn at any byte
 * (a crash, a power cut) loses only the value being written: the other slot holds the previous write,
 * whatever the ids did (a floor that jumps after out-of-order acks, a cursor moved back after a failed
 * sync). Version 1 and 2 files (sequence 0, whose check is the same) are read as written, the higher id
 * winning, and upgraded by their next writes.
 *
 * <p>Each part has one writer: the cursor the pull side, the head the push side, the reservation the
 * store's thread; they touch different slots of the mapping.
 */
final class Cursor implements AutoCloseable {
    static final long NO_INDEX = -1L;
    private static final int MAGIC = 0x55435053; // "SPCU" little-endian
    private static final int VERSION = 3;
    private static final int V1_SIZE = 192;
    private static final int SIZE = 256;
    private static final int CURSOR_SLOTS = 64;
    private static final int HEAD_SLOTS = 128;
    private static final int RESERVE_SLOTS = 192;
    static final int SLOT_SIZE = 32;

    /** A decoded cursor position: nothing consumed yet is {@code (NO_INDEX, 0)}. */
    record Position(long index, long id) {
        static final Position START = new Position(NO_INDEX, 0);
    }

    /** One part's two slots: writes alternate between them by sequence. Used by that part's one writer. */
    private static final class Slots {
        private final MappedByteBuffer map;
        private final int base;
        private final Faults.Point point;
        private long seq;
        private Position value;

        Slots(MappedByteBuffer map, int base, Faults.Point point) {
            this.map = map;
            this.base = base;
            this.point = point;
            long bestSeq = -1;
            for (int slot = 0; slot < 2; slot++) {
                int off = base + slot * SLOT_SIZE;
                long idx = map.getLong(off);
                long id = map.getLong(off + 8);
                long s = map.getLong(off + 24);
                if (s < 0 || id < 0 || map.getLong(off + 16) != check(idx, id, s)) {
                    continue;
                }
                seq = Math.max(seq, s);
                // The newer write wins; between two unsequenced (version 2) slots, the higher id.
                if (value == null || s > bestSeq || (s == bestSeq && id > value.id())) {
                    value = new Position(idx, id);
                    bestSeq = s;
                }
            }
        }

        /** The value found when opened, or null if no slot was valid (writes do not update it: no allocation). */
        Position value() {
            return value;
        }

        void write(long index, long id) {
            seq++;
            // Odd sequences go to slot 1, even to slot 0: never the slot holding the value in force.
            int off = base + (int) (seq & 1) * SLOT_SIZE;
            // Invalidate the slot first, so a crash half-way leaves it invalid rather than mixed.
            map.putLong(off + 16, 0L);
            Faults.at(point);
            map.putLong(off, index);
            map.putLong(off + 8, id);
            map.putLong(off + 24, seq);
            map.putLong(off + 16, check(index, id, seq));
        }
    }

    private final FileChannel channel;
    private final MappedByteBuffer map;
    private final boolean valid;
    private final Slots cursorSlots;
    private final Slots headSlots;
    private final Slots reserveSlots;
    private final Position recoveredHead;
    private final long recoveredReserve;
    private long index;
    private long id;

    private Cursor(FileChannel channel, MappedByteBuffer map, boolean headerOk) {
        this.channel = channel;
        this.map = map;
        this.cursorSlots = new Slots(map, CURSOR_SLOTS, Faults.Point.CURSOR_WRITE);
        this.headSlots = new Slots(map, HEAD_SLOTS, Faults.Point.HEAD_WRITE);
        this.reserveSlots = new Slots(map, RESERVE_SLOTS, Faults.Point.ID_RESERVATION);
        Position best = headerOk ? cursorSlots.value() : null;
        this.valid = best != null;
        Position at = best == null ? Position.START : best;
        this.index = at.index();
        this.id = at.id();
        this.recoveredHead = headerOk ? headSlots.value() : null;
        Position reserve = headerOk ? reserveSlots.value() : null;
        this.recoveredReserve = reserve == null ? -1 : reserve.id();
    }

    /** Creates a fresh cursor file at the start, synced. */
    static Cursor create(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
        map.order(ByteOrder.LITTLE_ENDIAN);
        map.putInt(0, MAGIC);
        map.putInt(4, VERSION);
        Cursor c = new Cursor(ch, map, true);
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
        boolean headerOk = sized && map.getInt(0) == MAGIC && version >= 1 && version <= VERSION;
        if (headerOk && version == 1) {
            // Version 1 had no reservation: whatever bytes lie there are not one.
            for (int off = RESERVE_SLOTS; off < SIZE; off += 8) {
                map.putLong(off, 0L);
            }
        }
        map.putInt(0, MAGIC);
        map.putInt(4, VERSION);
        return new Cursor(ch, map, headerOk);
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
     * force is never overwritten (the new one goes to the other slot), so a crash at any point leaves either
     * the old reservation or the new one.
     */
    void reserve(long id) {
        reserveSlots.write(0L, id);
    }

    /** Records the last appended message; called under the journal's push lock. */
    void head(long newIndex, long newId) {
        headSlots.write(newIndex, newId);
    }

    /** Whether the file held a valid position when opened. */
    boolean isValid() {
        return valid;
    }

    Position position() {
        return new Position(index, id);
    }

    /** The journal index of the last consumed message ({@link #NO_INDEX} before the first). */
    long index() {
        return index;
    }

    /** The id of the last consumed message (0 before the first). */
    long id() {
        return id;
    }

    /** Records that the message with this journal index and id has been consumed. */
    void advance(long newIndex, long newId) {
        write(newIndex, newId);
    }

    /** Moves the cursor to a position, forwards or back (recovery, and undoing pulls whose sync failed). */
    void reset(Position p) {
        write(p.index(), p.id());
    }

    private void write(long newIndex, long newId) {
        cursorSlots.write(newIndex, newId);
        index = newIndex;
        id = newId;
    }

    /** Forces the mapping to the disk. */
    void sync() {
        Faults.at(Faults.Point.CURSOR_SYNC);
        map.force();
    }

    /** A slot's check: for sequence 0 the same as version 2's, so version 2 slots stay valid. */
    private static long check(long index, long id, long seq) {
        long h = index * 0x9E3779B97F4A7C15L ^ Long.rotateLeft(id, 29) ^ 0x5350434C5552534FL
                ^ seq * 0xC2B2AE3D27D4EB4FL;
        return h == 0 ? 1 : h;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
