package dev.spool.storage.journal;

import dev.spool.storage.AtomicFile;
import dev.spool.storage.JournalRollCycle;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * One Chronicle Queue in its own folder, and what Spool does with its files: open it (setting aside
 * cycle files a power loss left empty, which would make Chronicle wait forever for their header),
 * delete whole cycle files that are no longer needed, and force written cycles to the disk. The
 * journal ({@link EntryFile}) and the state log ({@link StateLog}) each own one.
 *
 * <p>Appenders and tailers it creates are used under their owner's locks.
 */
final class ChronicleFolder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChronicleFolder.class);
    static final String CYCLE_SUFFIX = ".cq4";
    /** Chronicle's metadata file in every queue folder. */
    static final String METADATA_FILE = "metadata.cq4t";

    private final Path folder;
    private final SingleChronicleQueue queue;
    private final RollCycle rollCycle;
    /** An open channel on the newest synced cycle's file, kept between syncs (one syncing thread). */
    private FileChannel syncChannel;
    private int syncChannelCycle;

    private ChronicleFolder(Path folder, SingleChronicleQueue queue) {
        this.folder = folder;
        this.queue = queue;
        this.rollCycle = queue.rollCycle();
    }

    /** Opens (creating) the queue in {@code folder}, first setting aside cycle files with no header. */
    static ChronicleFolder open(Path folder, JournalRollCycle cycle, Clock clock, Quarantine quarantine)
            throws IOException {
        Files.createDirectories(folder);
        setAsideEmptyFiles(folder, quarantine);
        RollCycle rc = switch (cycle) {
            case DAILY -> RollCycles.FAST_DAILY;
            case HOURLY -> RollCycles.FAST_HOURLY;
            case SECONDLY -> TestRollCycles.TEST_SECONDLY;
        };
        return new ChronicleFolder(folder, SingleChronicleQueueBuilder.binary(folder.toFile())
                .rollCycle(rc)
                .timeProvider(clock::millis)
                .build());
    }

    /**
     * A file created shortly before a power loss can come back with 0 bytes, or zeros where Chronicle's
     * header should be; Chronicle then waits forever for a writer to finish it. Such a file holds no
     * readable entry, so it is moved aside (kept for inspection) and the queue opens without it.
     */
    private static void setAsideEmptyFiles(Path folder, Quarantine quarantine) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*.{cq4,cq4t}")) {
            for (Path f : files) {
                if (hasNoHeader(f)) {
                    Path kept = quarantine.setAside(f);
                    if (f.getFileName().toString().endsWith(".cq4t")) {
                        // Chronicle's own metadata (roll cycle, directory listing): rebuilt from the cycle files.
                        LOG.warn("{} has no header (0 bytes or zero-filled: written just before a power loss); it is "
                                + "rebuilt, and the empty copy kept in {}", f, kept);
                    } else {
                        LOG.error("{} has no header (0 bytes or zero-filled: created just before a power loss or "
                                + "crash); moved to {} and the queue opens without it", f, kept);
                    }
                }
            }
        }
    }

    static boolean hasNoHeader(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(8);
            while (head.hasRemaining() && ch.read(head) >= 0) {
                // read the first 8 bytes (or as many as there are)
            }
            if (head.position() < 8) {
                return true;
            }
            return head.getLong(0) == 0L;
        }
    }

    ExcerptAppender appender() {
        ExcerptAppender a = queue.createAppender();
        a.singleThreadedCheckDisabled(true);
        return a;
    }

    ExcerptTailer tailer() {
        ExcerptTailer t = queue.createTailer();
        t.singleThreadedCheckDisabled(true);
        return t;
    }

    Path folder() {
        return folder;
    }

    /** The index of the last entry, or -1 if there is none. */
    long lastIndex() {
        return queue.lastIndex();
    }

    int cycleOf(long index) {
        return index < 0 ? Integer.MIN_VALUE : rollCycle.toCycle(index);
    }

    /** The first and last cycle with a file, or Integer.MAX_VALUE / MIN_VALUE when there is none. */
    int firstCycle() {
        return queue.firstCycle();
    }

    int lastCycle() {
        return queue.lastCycle();
    }

    /** The sequence of an index within its cycle (0 for a cycle's first entry). */
    long seqOf(long index) {
        return rollCycle.toSequenceNumber(index);
    }

    /** The first index of a cycle. */
    long firstIndexOf(int cycle) {
        return rollCycle.toIndex(cycle, 0);
    }

    /** The index of the {@code seq}-th entry (from 0) of a cycle. */
    long indexOf(int cycle, long seq) {
        return rollCycle.toIndex(cycle, seq);
    }

    /** The cycles that have a file, oldest first (empty when there is none). */
    int[] cycles() {
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || last == Integer.MIN_VALUE) {
            return new int[0];
        }
        return queue.listCyclesBetween(first, last).stream().mapToInt(Long::intValue).toArray();
    }

    /** When a cycle begins (ms since the epoch): a clock set there makes appends land in that cycle. */
    long startMillis(int cycle) {
        return (long) cycle * rollCycle.lengthInMillis();
    }

    /** The file of a cycle. */
    Path cycleFile(int cycle) {
        long millis = (long) cycle * rollCycle.lengthInMillis();
        return folder.resolve(DateTimeFormatter.ofPattern(rollCycle.format()).withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(millis)) + CYCLE_SUFFIX);
    }

    /**
     * Deletes the cycle files wholly before {@code cycle}. Cycle files are named by their time in a fixed-width
     * format, so names sort as cycles do (Chronicle's own listing needs both ends of a range to exist, and a
     * log's cycles have gaps). Failures are logged and retried next time.
     */
    void deleteBefore(int cycle) {
        String keepFrom = cycleFile(cycle).getFileName().toString();
        boolean deleted = false;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(folder, "*" + CYCLE_SUFFIX)) {
            for (Path f : files) {
                if (f.getFileName().toString().compareTo(keepFrom) < 0) {
                    deleted |= Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            LOG.warn("could not delete old cycle files in {}: {} (retried later)", folder, e.toString());
        }
        if (deleted) {
            queue.refreshDirectoryListing();
        }
    }

    /**
     * Forces every cycle file from {@code fromCycle} to the one holding {@code toIndex} to the disk, and
     * the folder too when a newer cycle file appeared (its directory entry must be durable).
     *
     * @param fromCycle the newest cycle already synced (Integer.MIN_VALUE: none)
     */
    void force(int fromCycle, long toIndex) throws IOException {
        if (toIndex < 0) {
            return;
        }
        int to = rollCycle.toCycle(toIndex);
        for (int c = Math.max(fromCycle, queue.firstCycle()); c <= to; c++) {
            FileChannel ch = syncChannel(c);
            if (ch != null) {
                ch.force(false);
            }
        }
        if (to != fromCycle) {
            // A new cycle file: its directory entry, and Chronicle's metadata that lists it, must be durable too.
            Path meta = folder.resolve(METADATA_FILE);
            if (Files.exists(meta)) {
                FileTrees.force(meta);
            }
            AtomicFile.syncDirectory(folder);
        }
    }

    private FileChannel syncChannel(int cycle) throws IOException {
        if (syncChannel != null && syncChannelCycle == cycle) {
            return syncChannel;
        }
        Path f = cycleFile(cycle);
        if (!Files.exists(f)) {
            return null;
        }
        if (syncChannel != null) {
            syncChannel.close();
        }
        syncChannel = FileChannel.open(f, StandardOpenOption.WRITE);
        syncChannelCycle = cycle;
        return syncChannel;
    }

    @Override
    public void close() {
        queue.close();
        if (syncChannel != null) {
            try {
                syncChannel.close();
            } catch (IOException e) {
                LOG.warn("closing sync channel of {}: {}", folder, e.toString());
            }
            syncChannel = null;
        }
    }
}
