package dev.spool.storage.journal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Messages of a queue's journal that one reader alone receives: a redrive's, appended for the subscription whose dead
 * letters they were (or for the queue's own consumers). Every other reader skips them as it skips void ids, now and
 * after any seek or restart. Kept in {@code queues/<q>/addressed.dat}, one line a range ({@code from to reader},
 * {@code -} for the queue's own reader; {@code cancel from to} undoes one), each written and forced before the
 * append it covers, so no reader ever sees the messages without their range. A torn last line (a crash while it was
 * written, before its append) is ignored. Ranges are few: one per redrive batch.
 */
final class Addressed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Addressed.class);
    static final String FILE = "addressed.dat";
    /** The queue's own reader, in the file. */
    private static final String OWN = "-";

    private record Range(long from, long to, String reader) {
    }

    private final Path file;
    private FileChannel channel;
    /** Sorted by {@code from} (ids grow); replaced whole on a change, read without a lock. */
    private volatile List<Range> ranges;

    private Addressed(Path file, List<Range> ranges) {
        this.file = file;
        this.ranges = ranges;
    }

    static Addressed open(Path queueDir, String queue) throws IOException {
        Path f = queueDir.resolve(FILE);
        List<Range> ranges = new ArrayList<>();
        if (Files.exists(f)) {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String[] p = lines.get(i).split(" ");
                try {
                    if (p.length == 3 && p[0].equals("cancel")) {
                        long from = Long.parseLong(p[1]);
                        ranges.removeIf(r -> r.from() == from);
                    } else if (p.length == 3) {
                        ranges.add(new Range(Long.parseLong(p[0]), Long.parseLong(p[1]), p[2].equals(OWN) ? null : p[2]));
                    } else {
                        throw new NumberFormatException(lines.get(i));
                    }
                } catch (NumberFormatException e) {
                    if (i < lines.size() - 1) {
                        throw new IOException("queue '" + queue + "': " + f + " line " + (i + 1) + " is damaged: "
                                + lines.get(i));
                    }
                    LOG.warn("queue '{}': the last line of {} is torn (a crash before its redrive appended); ignored",
                            queue, f);
                }
            }
        }
        return new Addressed(f, List.copyOf(ranges));
    }

    /** Whether message {@code id} is addressed to another reader than {@code reader} (null: the queue's own). */
    boolean elsewhere(long id, String reader) {
        List<Range> rs = ranges;
        if (rs.isEmpty()) {
            return false;
        }
        int lo = 0;
        int hi = rs.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Range r = rs.get(mid);
            if (id < r.from()) {
                hi = mid - 1;
            } else if (id > r.to()) {
                lo = mid + 1;
            } else {
                return !java.util.Objects.equals(r.reader(), reader);
            }
        }
        return false;
    }

    /** Ids above {@code id} addressed to readers other than {@code reader}. */
    long elsewhereAbove(long id, String reader) {
        long n = 0;
        for (Range r : ranges) {
            if (r.to() > id && !java.util.Objects.equals(r.reader(), reader)) {
                n += r.to() - Math.max(r.from(), id + 1) + 1;
            }
        }
        return n;
    }

    /** Records that ids {@code from..to} go to {@code reader} alone, durably, before they are appended. */
    synchronized void add(long from, long to, String reader) throws IOException {
        write(from + " " + to + " " + (reader == null ? OWN : reader) + "\n");
        List<Range> next = new ArrayList<>(ranges);
        next.add(new Range(from, to, reader));
        ranges = List.copyOf(next);
    }

    /** Undoes {@link #add} for a range whose append did not happen (the ids will be used by other messages). */
    synchronized void cancel(long from, long to) throws IOException {
        List<Range> next = new ArrayList<>(ranges);
        next.removeIf(r -> r.from() == from);
        ranges = List.copyOf(next);
        write("cancel " + from + " " + to + "\n");
    }

    private void write(String line) throws IOException {
        if (channel == null) {
            boolean created = !Files.exists(file);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            if (created) {
                dev.spool.storage.AtomicFile.syncDirectory(file.getParent());
            }
        }
        ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            channel.write(b);
        }
        channel.force(true);
    }

    @Override
    public synchronized void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing {}: {}", file, e.toString());
            }
        }
    }
}
