package dev.spool.storage.journal;

import dev.spool.storage.StoreConfig;
import dev.spool.storage.SubscriptionStart;

import java.io.IOException;

/**
 * Where a reader of a queue's journal starts or moves to: a subscription's start and seek, and the bound the retention
 * settings put on how far back a subscription may be. Reads only, through a reader of its own that holds retention
 * back while it looks ({@code t}).
 */
final class Places {
    private Places() {
    }

    /**
     * Where a reader is placed: just after {@code after} (its cursor, whose id is its floor), reading the entry at
     * {@code firstIndex} next (-1: whatever follows {@code after}).
     */
    record Place(Cursor.Position after, long firstIndex) {
    }

    /** Where a reader starting at {@code start} is placed. */
    static Place of(Journal journal, EntryFile.Reader t, SubscriptionStart start, String queue)
            throws IOException, Queue.BadStart {
        long lastId = journal.lastId();
        long first = t.firstIndex();
        long firstId = first < 0 ? -1 : t.idAtIndex(first);
        if (start instanceof SubscriptionStart.Earliest) {
            return first < 0 ? latest(journal, t)
                    : new Place(new Cursor.Position(Cursor.NO_INDEX, Math.max(0, firstId - 1)), first);
        }
        if (start instanceof SubscriptionStart.Latest) {
            return latest(journal, t);
        }
        long id;
        if (start instanceof SubscriptionStart.FromTime ft) {
            id = journal.entries().times().firstIdAtOrAfter(ft.time().toEpochMilli());
            if (id < 0) {
                return latest(journal, t); // after the newest message: from the next one pushed
            }
            if (firstId >= 0 && id < firstId) {
                id = firstId; // before what the queue still holds: from the oldest it holds
            }
        } else {
            id = ((SubscriptionStart.AtId) start).id();
            if (id < 1 || id > lastId + 1) {
                throw new Queue.BadStart("id " + id + " is outside queue '" + queue + "': its messages have ids up to "
                        + lastId + " (" + (lastId + 1) + " starts at the next message pushed)");
            }
            if (firstId >= 0 && id < firstId) {
                throw new Queue.BadStart("message " + id + " is no longer kept in queue '" + queue + "': its oldest "
                        + "message is " + firstId);
            }
        }
        long at = t.indexAtOrAfter(id);
        if (at < 0) {
            return latest(journal, t);
        }
        long before = t.previousIndex(at);
        Cursor.Position after = before < 0 ? new Cursor.Position(Cursor.NO_INDEX, Math.max(0, t.idAtIndex(at) - 1))
                : new Cursor.Position(before, t.idAtIndex(before));
        return new Place(after, at);
    }

    /** After the journal's last entry: from the next message pushed. */
    static Place latest(Journal journal, EntryFile.Reader t) {
        long last = journal.lastIndex();
        long lastEntryId = last < 0 ? -1 : t.idAtIndex(last);
        if (lastEntryId < 0) {
            return new Place(new Cursor.Position(Cursor.NO_INDEX, journal.lastId()), -1);
        }
        return new Place(new Cursor.Position(last, lastEntryId), -1);
    }

    /**
     * The place after the journal files the bounds let go: those wholly older than {@code maxAge} (every entry of a
     * file was appended before the next file began) and those beyond the newest {@code maxBytes} of files; the newest
     * file always stays. Null when no file may go (or nothing precedes the first entry kept).
     */
    static Place retentionBound(ChronicleFolder folder, EntryFile.Reader t, StoreConfig.Retention r, long now)
            throws IOException {
        int[] cycles = folder.cycles();
        int keepFrom = 0;
        if (!r.maxAge().isZero()) {
            long cutoff = now - r.maxAge().toMillis();
            for (int k = 0; k + 1 < cycles.length; k++) {
                if (folder.startMillis(cycles[k + 1]) <= cutoff) {
                    keepFrom = k + 1;
                }
            }
        }
        if (r.maxBytes() > 0) {
            long total = 0;
            for (int k = cycles.length - 1; k > 0; k--) {
                total += DiskUsage.of(folder.cycleFile(cycles[k]));
                if (total >= r.maxBytes()) {
                    keepFrom = Math.max(keepFrom, k);
                    break;
                }
            }
        }
        if (keepFrom == 0) {
            return null;
        }
        long first = -1;
        for (int k = keepFrom; k < cycles.length && first < 0; k++) {
            first = t.idAtIndex(folder.firstIndexOf(cycles[k])) >= 0 ? folder.firstIndexOf(cycles[k]) : -1;
        }
        long before = first < 0 ? -1 : t.previousIndex(first);
        return before < 0 ? null : new Place(new Cursor.Position(before, t.idAtIndex(before)), first);
    }
}
