package dev.spool.storage;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.CRC32C;

/** Checks that a journal ends where its write head says, and rebuilds a journal whose tail is damaged. */
final class TailCheck {
    private static final Logger LOG = LoggerFactory.getLogger(TailCheck.class);

    private TailCheck() {
    }

    /**
     * Reads the entry at the recorded head and any entries after it (at most the push in flight at a
     * crash), checking ids and checksums.
     *
     * @return the index and id of the last entry, or null if the journal does not match its head
     */
    static Cursor.Position verify(SingleChronicleQueue q, Cursor.Position head, int[] reads) {
        if (head == null) {
            return null;
        }
        CRC32C crc = new CRC32C();
        try (ExcerptTailer t = q.createTailer()) {
            long lastIndex = head.index();
            long lastId = head.id();
            if (head.index() == Cursor.NO_INDEX) {
                t.toStart();
            } else if (!t.moveToIndex(head.index())) {
                return null;
            } else {
                try (DocumentContext dc = t.readingDocument()) {
                    reads[0]++;
                    if (!dc.isPresent() || !matches(dc.wire().bytes(), head.id(), crc)) {
                        return null;
                    }
                }
            }
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        return new Cursor.Position(lastIndex, lastId);
                    }
                    reads[0]++;
                    if (!matches(dc.wire().bytes(), lastId + 1, crc)) {
                        return null;
                    }
                    lastId++;
                    lastIndex = dc.index();
                }
            }
        } catch (RuntimeException | AssertionError e) {
            LOG.warn("journal check failed: {}", e.toString());
            return null;
        }
    }

    private static boolean matches(Bytes<?> b, long expectedId, CRC32C crc) {
        return b.readRemaining() >= 12 && b.readLong() == expectedId && Journal.checkEntry(b, null, crc);
    }

    /**
     * Copies the intact run of entries after {@code consumedId} into a new journal, which replaces the
     * damaged one; the damaged folder is kept beside it for inspection.
     *
     * @return the id of the last intact entry (at least {@code consumedId})
     */
    static long rebuild(Path journalDir, StoreConfig config, long consumedId, String name) throws IOException {
        Path fresh = journalDir.resolveSibling(journalDir.getFileName() + ".rebuild");
        FileTrees.delete(fresh);
        long lastIntact = consumedId;
        long copied = 0;
        CRC32C crc = new CRC32C();
        try (SingleChronicleQueue damaged = Journal.openChronicle(journalDir, config.rollCycle(), config.clock());
             SingleChronicleQueue out = Journal.openChronicle(fresh, config.rollCycle(), config.clock());
             ExcerptTailer t = damaged.createTailer();
             ExcerptAppender a = out.createAppender()) {
            long prev = -1;
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    long start = b.readPosition();
                    if (b.readRemaining() < 12) {
                        break;
                    }
                    long id = b.readLong();
                    if ((prev >= 0 && id != prev + 1) || !Journal.checkEntry(b, null, crc)) {
                        LOG.error("queue '{}': journal entry after id {} is torn or corrupt; it and everything "
                                + "after it are dropped", name, prev);
                        break;
                    }
                    prev = id;
                    if (id > consumedId) {
                        b.readPosition(start);
                        byte[] entry = new byte[(int) b.readRemaining()];
                        b.read(entry);
                        try (DocumentContext w = a.writingDocument()) {
                            w.wire().bytes().write(entry);
                        }
                        copied++;
                        lastIntact = id;
                    }
                }
            }
        } catch (RuntimeException | AssertionError e) {
            LOG.error("queue '{}': reading the damaged journal stopped: {}", name, e.toString());
        }
        Path kept = journalDir.resolveSibling(journalDir.getFileName() + ".damaged-"
                + config.clock().millis());
        Files.move(journalDir, kept, StandardCopyOption.ATOMIC_MOVE);
        Files.move(fresh, journalDir, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.syncDirectory(journalDir.getParent());
        LOG.error("queue '{}': journal rebuilt with {} unconsumed messages up to id {}; the damaged journal is "
                + "kept in {} for inspection (delete it when done)", name, copied, lastIntact, kept);
        return lastIntact;
    }
}
