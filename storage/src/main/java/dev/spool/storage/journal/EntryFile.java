package dev.spool.storage.journal;

import dev.spool.storage.StoreConfig;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A queue's journal: entries ({@link EntryCodec}) appended to a Chronicle Queue, read by any number of
 * {@link Reader}s (the queue's own and one per subscription), each in order and at random by index with tailers of
 * its own, and deleted a whole cycle file at a time once every reader has consumed it.
 *
 * <p>Not thread-safe: appends run under the journal's push lock, each reader's reads under that reader's lock,
 * retention under the journal's own monitor, {@link #force} on the one syncing thread.
 */
final class EntryFile implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EntryFile.class);
    static final String DIR = "journal";

    private final String name;
    private final ChronicleFolder folder;
    private final ExcerptAppender appender;
    private final EntryCodec writer = new EntryCodec();
    private final Reader reader;
    /** Every open reader, the queue's own first: retention keeps what the slowest of them has not consumed. */
    private final java.util.List<Reader> readers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private int retainedFrom = Integer.MIN_VALUE;
    /** The newest cycle forced so far (the syncing thread's). */
    private int syncedCycle = Integer.MIN_VALUE;
    private final TimeMarks times;

    EntryFile(String name, ChronicleFolder folder, TimeMarks times) {
        this.name = name;
        this.folder = folder;
        this.times = times;
        this.appender = folder.appender();
        this.reader = newReader(Cursor.NO_INDEX);
    }

    /**
     * A reader of its own (a subscription's), holding back retention at {@code consumedIndex} (the index of the
     * last entry it consumed, {@link Cursor#NO_INDEX} for none) until it moves on. {@link Reader#close} it.
     */
    synchronized Reader newReader(long consumedIndex) {
        // Under retain()'s monitor: a deletion either ran before this reader holds files back, or waits for it.
        Reader r = new Reader(folder.tailer(), folder.tailer(), consumedIndex);
        readers.add(r);
        return r;
    }

    /** Stops retention for good (the queue is closing: its readers close one by one, and none may delete yet). */
    synchronized void freezeRetention() {
        frozen = true;
    }

    private boolean frozen;

    ChronicleFolder folder() {
        return folder;
    }

    /** Appends one entry. @return its journal index */
    long append(long id, byte[] payload) {
        try (DocumentContext dc = appender.writingDocument()) {
            writer.write(dc.wire().bytes(), id, payload);
        }
        return appender.lastIndexAppended();
    }

    /** Notes that entries from {@code firstId} on were appended at {@code millis} (see {@link TimeMarks}). */
    void appended(long firstId, long millis) {
        times.appended(firstId, millis);
    }

    /** When messages were appended (to the second). */
    TimeMarks times() {
        return times;
    }

    /** The queue's own reader (used under the queue's pull lock). */
    Reader reader() {
        return reader;
    }

    /** As {@link Reader#indexAtOrAfter}, with the queue's own reader (tests). */
    long indexAtOrAfter(long id) {
        return reader.indexAtOrAfter(id);
    }

    /** Entries read by the last {@link Reader#indexAtOrAfter} of any reader (tests check it stays logarithmic). */
    volatile int probes;

    /**
     * Forces the journal up to the entry at {@code toIndex} to the disk: the cycles written since the last force,
     * and the folder when a new cycle file appeared. Called by one syncing thread at a time.
     */
    void force(long toIndex) throws IOException {
        Faults.at(Faults.Point.JOURNAL_SYNC);
        folder.force(syncedCycle, toIndex);
        syncedCycle = Math.max(syncedCycle, folder.cycleOf(toIndex));
    }

    /** Deletes what no open reader needs any more (after a subscription was deleted). */
    void retainNow() {
        retain();
    }

    /**
     * Deletes the journal's cycle files wholly before the cycle of the oldest entry some reader still needs: every
     * reader's last consumed index is known, and none of them may have its cycle deleted.
     */
    private synchronized void retain() {
        if (frozen) {
            return;
        }
        long oldest = Long.MAX_VALUE;
        for (Reader r : readers) {
            oldest = Math.min(oldest, r.consumedIndex);
        }
        if (oldest < 0 || oldest == Long.MAX_VALUE) {
            return; // a reader has consumed nothing yet (or none has): every file is still needed
        }
        int cycle = folder.cycleOf(oldest);
        if (cycle <= retainedFrom) {
            return;
        }
        retainedFrom = cycle;
        folder.deleteBefore(cycle);
        try {
            times.trimBefore(folder.startMillis(cycle));
        } catch (IOException e) {
            LOG.warn("queue '{}': could not trim the time marks: {} (retried later)", name, e.toString());
        }
    }

    @Override
    public void close() {
        appender.close();
        for (Reader r : readers) {
            r.closeTailers();
        }
        readers.clear();
        folder.close();
        times.close();
    }

    /**
     * One reader's view: reads entries in order ({@link #next} fills {@link #codec()} and {@link #index()}) and at
     * random, with tailers of its own, used under its owner's lock.
     */
    final class Reader implements AutoCloseable {
        private final ExcerptTailer tailer;
        private final ExcerptTailer random;
        private final EntryCodec codec = new EntryCodec();
        private final EntryCodec randomCodec = new EntryCodec();
        private long index = -1;
        /** The index of the last entry this reader consumed ({@link Cursor#NO_INDEX}: none); retention keeps it. */
        private volatile long consumedIndex;

        private Reader(ExcerptTailer tailer, ExcerptTailer random, long consumedIndex) {
            this.tailer = tailer;
            this.random = random;
            this.consumedIndex = consumedIndex;
        }

        /**
         * This reader has consumed everything up to the entry at {@code index} (or, moved back by a seek, needs it
         * again): the journal's files wholly before the oldest cycle any reader still needs are deleted.
         */
        void retainFrom(long index) {
            consumedIndex = index;
            retain();
        }

        /** As {@link #retainFrom}, deleting nothing yet (recovery, before every reader is open). */
        void holdFrom(long index) {
            consumedIndex = index;
        }

        /** The payload of the entry at {@code index} if it is intact and has id {@code id}, else null. */
        byte[] readAt(long index, long id) {
            if (index < 0 || !random.moveToIndex(index)) {
                LOG.error("queue '{}': message id {} is no longer in the journal; skipped", name, id);
                return null;
            }
            try (DocumentContext dc = random.readingDocument()) {
                if (!dc.isPresent() || !randomCodec.read(dc.wire().bytes(), true) || randomCodec.id() != id
                        || !randomCodec.intact()) {
                    LOG.error("queue '{}': message id {} is corrupt; skipped", name, id);
                    return null;
                }
                return randomCodec.payload();
            }
        }

        /** The id of the entry at {@code index}, or -1 if there is none. */
        long idAtIndex(long index) {
            if (index < 0 || !random.moveToIndex(index)) {
                return -1;
            }
            try (DocumentContext dc = random.readingDocument()) {
                return dc.isPresent() ? EntryCodec.peekId(dc.wire().bytes()) : -1;
            }
        }

        /**
         * The index of the first entry whose id is {@code id} or more, or -1 if every entry's id is below it (or there
         * is none): where a reader seeking to a message id starts. Ids grow with the index, so this is a binary search,
         * over the cycle files and then within one, reading one entry's id per step: about log2(cycles) + log2(entries
         * in a cycle) reads, whatever the journal's length (a seek, not a scan). Runs under the reader's lock, as
         * {@link #readAt}.
         */
        long indexAtOrAfter(long id) {
            probes = 0;
            int[] cycles = folder.cycles();
            // The last cycle whose first entry's id is at most id: the entry sought is in it, or starts the next one.
            int lo = 0;
            int hi = cycles.length - 1;
            int at = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                long first = idAt(cycles[mid], 0);
                if (first < 0) {
                    // An empty cycle file (set aside at open, or made by a roll with no entry yet): decide by the
                    // nearest cycle after it that has entries.
                    int next = nextWithEntries(cycles, mid + 1);
                    first = next < 0 ? Long.MAX_VALUE : idAt(cycles[next], 0);
                }
                if (first <= id) {
                    at = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            if (at < 0) {
                int first = nextWithEntries(cycles, 0);
                return first < 0 ? -1 : folder.firstIndexOf(cycles[first]);
            }
            int cycle = cycles[at];
            // Within it: the smallest sequence whose entry is missing (past the cycle's end) or has an id >= id.
            long low = 0;
            long high = 1;
            while (notBefore(cycle, high, id)) {
                low = high;
                high *= 2;
            }
            while (low < high) {
                long mid = (low + high) >>> 1;
                if (notBefore(cycle, mid, id)) {
                    low = mid + 1;
                } else {
                    high = mid;
                }
            }
            if (idAt(cycle, low) >= 0) {
                return folder.indexOf(cycle, low);
            }
            int next = nextWithEntries(cycles, at + 1);
            return next < 0 ? -1 : folder.firstIndexOf(cycles[next]);
        }

        /** Whether the cycle's {@code seq}-th entry exists and has an id below {@code id}. */
        private boolean notBefore(int cycle, long seq, long id) {
            long found = idAt(cycle, seq);
            return found >= 0 && found < id;
        }

        /** The position in {@code cycles} of the first cycle from {@code from} on that has an entry, or -1. */
        private int nextWithEntries(int[] cycles, int from) {
            for (int i = from; i < cycles.length; i++) {
                if (idAt(cycles[i], 0) >= 0) {
                    return i;
                }
            }
            return -1;
        }

        /** The id of the cycle's {@code seq}-th entry, or -1 if there is no such entry. */
        private long idAt(int cycle, long seq) {
            probes++;
            if (!random.moveToIndex(folder.indexOf(cycle, seq))) {
                return -1;
            }
            try (DocumentContext dc = random.readingDocument()) {
                return dc.isPresent() ? EntryCodec.peekId(dc.wire().bytes()) : -1;
            }
        }


        /** The index of the journal's first entry, or -1 if it has none. */
        long firstIndex() {
            int[] cycles = folder.cycles();
            int first = nextWithEntries(cycles, 0);
            return first < 0 ? -1 : folder.firstIndexOf(cycles[first]);
        }

        /** The index of the entry before the one at {@code index}, or -1 if that one is the journal's first. */
        long previousIndex(long index) {
            if (folder.seqOf(index) > 0) {
                return index - 1;
            }
            int cycle = folder.cycleOf(index);
            int[] cycles = folder.cycles();
            for (int k = cycles.length - 1; k >= 0; k--) {
                if (cycles[k] < cycle && idAt(cycles[k], 0) >= 0) {
                    // The last entry of the nearest earlier cycle with entries: exponential, then binary search.
                    long low = 0;
                    long high = 1;
                    while (idAt(cycles[k], high) >= 0) {
                        low = high;
                        high *= 2;
                    }
                    while (high - low > 1) {
                        long mid = (low + high) >>> 1;
                        if (idAt(cycles[k], mid) >= 0) {
                            low = mid;
                        } else {
                            high = mid;
                        }
                    }
                    return folder.indexOf(cycles[k], low);
                }
            }
            return -1;
        }

        /** Positions the reader to read the entry at {@code index} next. */
        boolean moveTo(long index) {
            return tailer.moveToIndex(index);
        }

        /**
         * Stops holding back retention and releases the tailers. Deletes nothing itself: a store closing must not
         * release what this reader still needs at the next start ({@link EntryFile#retainNow} once it is gone for good).
         */
        @Override
        public void close() {
            synchronized (EntryFile.this) {
                readers.remove(this);
            }
            closeTailers();
        }

        private void closeTailers() {
            tailer.close();
            random.close();
        }

        /** Reads the next entry, copying its payload; false at the end of the journal. */
        boolean next() {
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) {
                    return false;
                }
                index = dc.index();
                codec.read(dc.wire().bytes(), true);
                return true;
            }
        }

        /** The id of the next entry without consuming it, or -1 at the end. */
        long peekId() {
            try (DocumentContext dc = tailer.readingDocument()) {
                if (!dc.isPresent()) {
                    return -1;
                }
                dc.rollbackOnClose();
                return EntryCodec.peekId(dc.wire().bytes());
            }
        }

        EntryCodec codec() {
            return codec;
        }

        long index() {
            return index;
        }

        void toStart() {
            tailer.toStart();
        }

        /**
         * Positions the reader just after the entry at {@code pos}.
         *
         * @return false if that entry is not where the position says (then the reader is at the start)
         */
        boolean moveAfter(Cursor.Position pos) {
            if (pos.index() == Cursor.NO_INDEX) {
                tailer.toStart();
                return true;
            }
            if (tailer.moveToIndex(pos.index())) {
                try (DocumentContext dc = tailer.readingDocument()) {
                    if (dc.isPresent() && EntryCodec.peekId(dc.wire().bytes()) == pos.id()) {
                        return true;
                    }
                }
            }
            tailer.toStart();
            return false;
        }

        /** Slow path for a damaged cursor: positions the reader before the first entry above {@code id}. */
        void skipThrough(long id) {
            tailer.toStart();
            while (true) {
                long next = peekId();
                if (next < 0 || next > id) {
                    return;
                }
                next();
            }
        }
    }

    /** Opens a queue's journal folder. */
    static EntryFile open(String name, Path queueDir, StoreConfig config, Quarantine quarantine) throws IOException {
        TimeMarks times = TimeMarks.open(queueDir, name);
        try {
            return new EntryFile(name, ChronicleFolder.open(queueDir.resolve(DIR), config.rollCycle(), config.clock(),
                    quarantine), times);
        } catch (IOException | RuntimeException e) {
            times.close();
            throw e;
        }
    }
}
