package dev.spool.storage;

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
     * Copies the intact run of entries after {@code consumedId} into a new journal, which replaces the
     * damaged one; the damaged folder is kept for inspection (see {@link Quarantine}).
     *
     * @return the id of the last intact entry (at least {@code consumedId})
     */
    static long rebuild(Path queueDir, StoreConfig config, long consumedId, String name, Quarantine quarantine)
            throws IOException {
        Path journalDir = queueDir.resolve(EntryFile.DIR);
        Path fresh = queueDir.resolve(EntryFile.DIR + REBUILD);
        FileTrees.delete(fresh);
        long lastIntact = consumedId;
        long copied = 0;
        EntryCodec codec = new EntryCodec();
        try (ChronicleFolder damaged = ChronicleFolder.open(journalDir, config.rollCycle(), config.clock(), quarantine);
             ChronicleFolder out = ChronicleFolder.open(fresh, config.rollCycle(), config.clock(), quarantine);
             ExcerptTailer t = damaged.tailer();
             ExcerptAppender a = out.appender()) {
            long prev = -1;
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    long start = b.readPosition();
                    if (!codec.read(b, false) || codec.id() <= prev || !codec.intact()) {
                        LOG.error("queue '{}': journal entry after id {} is torn or corrupt; it and everything "
                                + "after it are dropped", name, prev);
                        break;
                    }
                    prev = codec.id();
                    if (prev > consumedId) {
                        b.readPosition(start);
                        byte[] entry = new byte[(int) b.readRemaining()];
                        b.read(entry);
                        try (DocumentContext w = a.writingDocument()) {
                            w.wire().bytes().write(entry);
                        }
                        copied++;
                        lastIntact = prev;
                    }
                }
            }
            out.force(Integer.MIN_VALUE, out.lastIndex());
        } catch (RuntimeException | AssertionError e) {
            LOG.error("queue '{}': reading the damaged journal stopped: {}", name, e.toString());
        }
        Files.createFile(fresh.resolve(COMPLETE));
        AtomicFile.syncDirectory(fresh);
        Path kept = swapIn(journalDir, fresh, quarantine);
        LOG.error("queue '{}': journal rebuilt with {} unconsumed messages up to id {}; the damaged journal is "
                + "kept in {} for inspection (delete it when done)", name, copied, lastIntact, kept);
        return lastIntact;
    }

    private static Path swapIn(Path journalDir, Path fresh, Quarantine quarantine) throws IOException {
        Path kept = quarantine.newFolder(EntryFile.DIR);
        // Each step leaves a state the next open finishes: the complete copy is only ever renamed.
        if (Files.exists(journalDir)) {
            Files.move(journalDir, kept, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(fresh, journalDir, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.syncDirectory(journalDir.getParent());
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
