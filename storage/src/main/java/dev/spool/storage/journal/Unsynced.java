package dev.spool.storage.journal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * What a reader may still have to undo: the cursor as the last good sync left it on disk, and the acks logged
 * above the floor since. A consuming call whose write fails is undone back to its {@link Mark}; when a sync fails
 * under {@code fsync: always}, everything since the last good sync is undone (none of it was answered). Undoing
 * moves the cursor back and logs the acks as {@code UNDONE}, so those messages are delivered again after the
 * restart. Used under the reader's lock.
 */
final class Unsynced {
    /** An ack logged above the floor, with the change count seen when it was made. */
    private record Ack(long change, long id) {
    }

    /**
     * Where a consuming call found the cursor and the acks: what undoes it if its writes fail. One per reader,
     * reused by each call under the reader's lock, so a call allocates nothing for it.
     */
    static final class Mark {
        private long index;
        private long id;
        private int acks;
        private boolean set;

        /** Forgets the last call's mark (a call refused before it began has none). */
        void clear() {
            set = false;
        }

        boolean isSet() {
            return set;
        }
    }

    private final ArrayDeque<Ack> acks = new ArrayDeque<>();
    private Cursor.Position durableCursor;

    Unsynced(Cursor.Position durable) {
        this.durableCursor = durable;
    }

    /** An ack was logged above the floor at change count {@code change}. */
    void acked(long change, long id) {
        acks.add(new Ack(change, id));
    }

    /** Marks where a call begins. */
    void mark(Mark m, Cursor cursor) {
        m.index = cursor.index();
        m.id = cursor.id();
        m.acks = acks.size();
        m.set = true;
    }

    /** A sync that read the change count {@code change} and the cursor {@code cursor} succeeded. */
    void synced(long change, Cursor.Position cursor) {
        durableCursor = cursor;
        while (!acks.isEmpty() && acks.peek().change() < change) {
            acks.poll();
        }
    }

    /** Undoes everything since the last good sync. */
    void undoAll(Cursor cursor, StateLog log) {
        Mark all = new Mark();
        all.index = durableCursor.index();
        all.id = durableCursor.id();
        undo(all, cursor, log);
        acks.clear();
    }

    /** Undoes what was done since {@code mark}. */
    void undo(Mark mark, Cursor cursor, StateLog log) {
        if (mark.id != cursor.id() || mark.index != cursor.index()) {
            cursor.reset(new Cursor.Position(mark.index, mark.id));
        }
        List<Ack> all = new ArrayList<>(acks);
        for (int i = mark.acks; i < all.size(); i++) {
            log.undone(all.get(i).id());
        }
    }
}
