package dev.spool.storage.journal;

import dev.spool.storage.AtomicFile;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * Checks that a journal ends where its write head says, and rebuilds a journal whose tail is damaged.
 *
 * <p>A rebuild copies the intact entries after the cursor into {@code journal.rebuild}, marks the copy
 * complete, then swaps it in; a rebuild killed at any point is finished (or started again) by the next
 * open, with the same result.
 */
final class TailCheck {
    private static final Logger LOG = LoggerFactory.getLogger(TailCheck.class);
    private static final String REBUILD = ".rebuild";
    private static final String COMPLETE = "rebuild-complete";

    private TailCheck() {
    }

    /**
     * Reads the entry at the recorded head and any entries after it (at most the pushes in flight at a
     * crash), checking that ids grow and checksums match.
     *
     * @param reads counts the entries read (recovery must not depend on the backlog)
     * @return the index and id of the last entry, or null if the journal does not match its head
     */
    static Cursor.Position verify(ChronicleFolder journal, Cursor.Position head, Counter reads) {
        if (head == null) {
            return null;
        }
        EntryCodec codec = new EntryCodec();
        try (ExcerptTailer t = journal.tailer()) {
            long lastIndex = head.index();
            long lastId = head.id();
            if (head.index() == Cursor.NO_INDEX) {
                t.toStart();
            } else if (!t.moveToIndex(head.index())) {
                return null;
            } else {
                try (DocumentContext dc = t.readingDocument()) {
                    reads.add();
                    if (!dc.isPresent() || !codec.read(dc.wire().bytes(), false) || codec.id() != head.id()
                            || !codec.intact()) {
                        return null;
                    }
                }
            }
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        return new Cursor.Position(lastIndex, lastId);
                    }
                    reads.add();
                    if (!codec.read(dc.wire().bytes(), false) || codec.id() <= lastId || !codec.intact()) {
                        return null;
                    }
                    lastId = codec.id();
                    lastIndex = dc.index();
                }
            }
        } catch (RuntimeException | AssertionError e) {
            LOG.warn("journal check failed: {}", e.toString());
            return null;
        }
    }

    /** Finishes or discards a rebuild that a crash interrupted. */
    static void finishInterrupted(Path queueDir, Quarantine quarantine, String name) throws IOException {
        Path journalDir = queueDir.resolve(EntryFile.DIR);
        Path fresh = queueDir.resolve(EntryFile.DIR + REBUILD);
        // Killed after the swap, before the marker was removed: the rebuilt journal is in place.
        Files.deleteIfExists(journalDir.resolve(COMPLETE));
        if (!Files.exists(fresh)) {
            return;
        }
        if (!Files.exists(fresh.resolve(COMPLETE))) {
            LOG.warn("queue '{}': discarding an unfinished journal rebuild in {}", name, fresh);
            FileTrees.delete(fresh);
            return;
        }
        LOG.warn("queue '{}': finishing a journal rebuild that was interrupted", name);
        swapIn(journalDir, fresh, quarantine);
    }

    /**
     * Rebuilds a journal whose tail is damaged, needing free space for the damaged part only: the cycle
     * files before the one holding the write head (or the first one, when the head is unknown) are kept
     * as they are, hard-linked into {@code journal.rebuild}; the intact run of entries from that cycle on
     * is copied, each into its own cycle, so every entry keeps its index and the cursor stays valid. The
     * copy replaces the damaged journal, which is kept for inspection (see {@link Quarantine}).
     *
     * @param head the write head recorded before the crash, or null if unknown
     * @return the id of the last intact entry, or {@code consumedId} if there is none after it
     */
    static long rebuild(Path queueDir, StoreConfig config, Cursor.Position head, long consumedId, String name,
                        Quarantine quarantine) throws IOException {
        Path journalDir = queueDir.resolve(EntryFile.DIR);
        Path fresh = queueDir.resolve(EntryFile.DIR + REBUILD);
        Copy copy = new Copy();
        try {
            FileTrees.delete(fresh);
            Files.createDirectories(fresh);
            copyIntact(journalDir, fresh, config, head, name, quarantine, copy);
        } catch (IOException | RuntimeException | InternalError e) {
            // A failure to write the copy is not the end of the intact data: nothing is swapped in, the damaged
            // journal stays as it is, and the unfinished copy is discarded at the next start.
            throw new StoreException(StoreException.classify(e, fresh), "queue '" + name + "': rebuilding its damaged "
                    + "journal failed while writing the copy in " + fresh + " (" + e + "); nothing was changed. Fix "
                    + "the cause (space, permissions, the disk) and start again", e);
        }
        long lastIntact = copy.last >= 0 ? copy.last : lastIdIn(fresh, config, quarantine, consumedId);
        Files.createFile(fresh.resolve(COMPLETE));
        AtomicFile.syncDirectory(fresh);
        Faults.at(Faults.Point.REBUILD_BEFORE_SWAP);
        Path kept = swapIn(journalDir, fresh, quarantine);
        LOG.error("queue '{}': journal rebuilt: {} entries copied from the damaged cycle on, {} damaged entries "
                + "skipped, the last intact id is {}; the damaged journal is kept in {} for inspection (delete it "
                + "when done)", name, copy.copied, copy.skipped, Math.max(lastIntact, consumedId), kept);
        return Math.max(lastIntact, consumedId);
    }

    /** What a rebuild copied. */
    private static final class Copy {
        long copied;
        long skipped;
        long last = -1;
    }

    /**
     * Copies the intact entries into {@code fresh}. Reading the damaged journal may fail or end anywhere (that
     * is the end of the intact data); a damaged entry in the middle (checksum mismatch, ids not growing) is
     * skipped and counted. Writing the copy must not fail: any failure there is thrown.
     */
    private static void copyIntact(Path journalDir, Path fresh, StoreConfig config, Cursor.Position head, String name,
                                   Quarantine quarantine, Copy copy) throws IOException {
        EntryCodec codec = new EntryCodec();
        SettableClock cycleClock = new SettableClock();
        try (ChronicleFolder damaged = ChronicleFolder.open(journalDir, config.rollCycle(), config.clock(), quarantine)) {
            int first = damaged.firstCycle();
            int from = head == null || head.index() == Cursor.NO_INDEX ? first : Math.max(first, damaged.cycleOf(head.index()));
            if (first != Integer.MAX_VALUE) {
                for (int c = first; c < from; c++) {
                    Path f = damaged.cycleFile(c);
                    if (Files.exists(f)) {
                        // A link: the intact cycles cost no space, whatever the backlog.
                        Files.createLink(fresh.resolve(f.getFileName()), f);
                    }
                }
            }
            try (ChronicleFolder out = ChronicleFolder.open(fresh, config.rollCycle(), cycleClock, quarantine);
                 ExcerptTailer t = damaged.tailer();
                 ExcerptAppender a = out.appender()) {
                long prev = -1;
                byte[] entry;
                try {
                    if (first != Integer.MAX_VALUE && !t.moveToIndex(damaged.firstIndexOf(from))) {
                        t.toStart();
                        skipCyclesBefore(t, damaged, from);
                    }
                } catch (RuntimeException | AssertionError e) {
                    LOG.error("queue '{}': reading the damaged journal stopped at once: {}", name, e.toString());
                    return;
                }
                while (true) {
                    int cycle;
                    try (DocumentContext dc = t.readingDocument()) {
                        if (!dc.isPresent()) {
                            break;
                        }
                        Bytes<?> b = dc.wire().bytes();
                        long start = b.readPosition();
                        if (!codec.read(b, false) || codec.id() <= prev || !codec.intact()) {
                            copy.skipped++;
                            LOG.error("queue '{}': journal entry at index {} (after id {}) is torn or corrupt; skipped",
                                    name, Long.toHexString(dc.index()), prev);
                            continue;
                        }
                        prev = codec.id();
                        cycle = damaged.cycleOf(dc.index());
                        b.readPosition(start);
                        entry = new byte[(int) b.readRemaining()];
                        b.read(entry);
                    } catch (RuntimeException | AssertionError e) {
                        LOG.error("queue '{}': reading the damaged journal stopped after id {}: {}", name, prev,
                                e.toString());
                        break;
                    }
                    Faults.at(Faults.Point.REBUILD_WRITE);
                    cycleClock.set(damaged.startMillis(cycle));
                    try (DocumentContext w = a.writingDocument()) {
                        w.wire().bytes().write(entry);
                    }
                    copy.copied++;
                    copy.last = prev;
                }
                out.force(Integer.MIN_VALUE, out.lastIndex());
            }
        }
    }

    /** When the first entry of a cycle cannot be found by index: reads up to it. */
    private static void skipCyclesBefore(ExcerptTailer t, ChronicleFolder journal, int cycle) {
        while (true) {
            try (DocumentContext dc = t.readingDocument()) {
                if (!dc.isPresent() || journal.cycleOf(dc.index()) >= cycle) {
                    dc.rollbackOnClose();
                    return;
                }
            }
        }
    }

    /** The id of the last entry of a journal folder, or {@code otherwise} if it has none. */
    private static long lastIdIn(Path folder, StoreConfig config, Quarantine quarantine, long otherwise)
            throws IOException {
        try (ChronicleFolder f = ChronicleFolder.open(folder, config.rollCycle(), config.clock(), quarantine);
             ExcerptTailer t = f.tailer()) {
            long last = f.lastIndex();
            if (last < 0 || !t.moveToIndex(last)) {
                return otherwise;
            }
            try (DocumentContext dc = t.readingDocument()) {
                long id = dc.isPresent() ? EntryCodec.peekId(dc.wire().bytes()) : -1;
                return id < 0 ? otherwise : id;
            }
        }
    }

    /** A clock the rebuild sets to the cycle it is copying, so each entry lands in its own cycle. */
    private static final class SettableClock extends Clock {
        private volatile long millis;

        void set(long at) {
            millis = at;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public long millis() {
            return millis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    private static Path swapIn(Path journalDir, Path fresh, Quarantine quarantine) throws IOException {
        Path kept = quarantine.newFolder(EntryFile.DIR);
        // Each step leaves a state the next open finishes: the complete copy is only ever renamed.
        if (Files.exists(journalDir)) {
            Files.move(journalDir, kept, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(fresh, journalDir, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.syncDirectory(journalDir.getParent());
        Faults.at(Faults.Point.REBUILD_AFTER_SWAP);
        Files.delete(journalDir.resolve(COMPLETE));
        quarantine.prune();
        return kept;
    }

    /** Counts entries read (for tests: recovery must not scale with the backlog). */
    static final class Counter {
        private int n;

        void add() {
            n++;
        }

        int get() {
            return n;
        }
    }
}
