package dev.spool.storage.journal;

import dev.spool.storage.AtomicFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * When a queue's messages were appended, to the second: entries carry no time, so the journal keeps a mark (second,
 * first id) for each second in which it took a push, in {@code times.dat} beside it, 16 bytes a mark. Every message
 * from a mark's id up to the next mark's was appended in that mark's second, which gives a subscription's start
 * {@code from_time} (the first message of that second or later: at most a second early, never late) and the age of
 * a backlog's oldest message (issue 22). Read by binary search in the file, so memory does not grow with it.
 *
 * <p>A hint, never a guarantee of the journal: not synced (a mark lost in a crash makes a lookup fall back to an
 * earlier mark, so it errs early), its torn tail dropped at open, and a failed write switches marking off with one
 * warning rather than failing a push. Marks of seconds whose journal files are deleted are dropped with them.
 * Appends run under the journal's push lock; lookups and trims are synchronized against them.
 */
final class TimeMarks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TimeMarks.class);
    static final String FILE = "times.dat";
    private static final int MARK = 16;
    /** A mark's fields, as {@link #read} returns them. */
    private static final int SECOND = 0;
    private static final int ID = 1;

    private final Path file;
    private final String name;
    private FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(MARK);
    private long count;
    /** The newest mark's second and id (a new mark needs both larger: the clock may step back). */
    private volatile long lastSecond = Long.MIN_VALUE;
    private long lastId;
    private boolean broken;

    private TimeMarks(Path file, String name, FileChannel channel) {
        this.file = file;
        this.name = name;
        this.channel = channel;
    }

    /**
     * Opens (or creates) the marks of the queue in {@code queueDir}, dropping a torn tail. Marks that cannot be
     * opened for writing (a read-only file system) are read as they are, or are none: they never stop a queue.
     */
    static TimeMarks open(Path queueDir, String name) {
        Path file = queueDir.resolve(FILE);
        try {
            TimeMarks marks = new TimeMarks(file, name, FileChannel.open(file, StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE));
            marks.recover(true);
            return marks;
        } catch (IOException | RuntimeException e) {
            LOG.warn("queue '{}': cannot open the time marks for writing ({}); no new marks", name, e.toString());
        }
        TimeMarks marks;
        try {
            marks = new TimeMarks(file, name, FileChannel.open(file, StandardOpenOption.READ));
            marks.recover(false);
        } catch (IOException | RuntimeException e) {
            marks = new TimeMarks(file, name, null);
        }
        marks.broken = true;
        return marks;
    }

    private void recover(boolean writable) throws IOException {
        long n = channel.size() / MARK;
        // A crash may leave half a mark, or a mark of zeros where the file grew before its data reached the disk:
        // the tail is dropped back to the newest mark that follows its predecessor.
        while (n > 0) {
            long[] m = read(n - 1);
            long[] before = n > 1 ? read(n - 2) : null;
            if (m[SECOND] > 0 && m[ID] > 0
                    && (before == null || (m[SECOND] > before[SECOND] && m[ID] > before[ID]))) {
                lastSecond = m[SECOND];
                lastId = m[ID];
                break;
            }
            n--;
        }
        if (writable && channel.size() != n * MARK) {
            channel.truncate(n * MARK);
        }
        count = n;
    }

    /** Notes that messages from {@code firstId} on were appended at {@code millis}; under the push lock. */
    void appended(long firstId, long millis) {
        long second = Math.floorDiv(millis, 1000);
        if (second <= lastSecond) {
            return; // the common case: this second is marked already
        }
        synchronized (this) {
            if (broken || firstId <= lastId) {
                return;
            }
            try {
                buffer.clear();
                buffer.putLong(second).putLong(firstId).flip();
                long at = count * MARK;
                while (buffer.hasRemaining()) {
                    at += channel.write(buffer, at);
                }
                count++;
                lastSecond = second;
                lastId = firstId;
            } catch (IOException e) {
                broken = true;
                LOG.warn("queue '{}': cannot write the time marks ({}); seeking by time and message ages fall back"
                        + " to the marks written so far", name, e.toString());
            }
        }
    }

    /**
     * The id of the first message appended in the second of {@code millis} or later (so at most a second early), or
     * -1 if none was (start after the newest message).
     */
    synchronized long firstIdAtOrAfter(long millis) throws IOException {
        long at = firstAtLeast(SECOND, Math.floorDiv(millis, 1000));
        return at < count ? read(at)[ID] : -1;
    }

    /**
     * When the message {@code id} was appended: the start of its second, in ms since the epoch; -1 if it is older
     * than every mark (appended before marks were kept, or its marks were trimmed).
     */
    synchronized long appendedAt(long id) throws IOException {
        long after = firstAtLeast(ID, id + 1);
        return after == 0 ? -1 : read(after - 1)[SECOND] * 1000;
    }

    /** The position of the first mark whose {@code field} is at least {@code value} ({@link #count} if none). */
    private long firstAtLeast(int field, long value) throws IOException {
        long lo = 0;
        long hi = count;
        while (lo < hi) {
            long mid = (lo + hi) >>> 1;
            if (read(mid)[field] < value) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * Drops the marks of seconds before {@code millis} (their journal files are gone), once they are most of the
     * file: the rest is copied to a new file that replaces it.
     */
    synchronized void trimBefore(long millis) throws IOException {
        if (count == 0 || broken) {
            return;
        }
        // Keep the last mark before the cut too: it dates the first messages still in the journal.
        long keepFrom = Math.max(0, firstAtLeast(SECOND, Math.floorDiv(millis, 1000)) - 1);
        if (keepFrom * 2 < count) {
            return;
        }
        ByteBuffer rest = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE, (count - keepFrom) * MARK));
        long at = keepFrom * MARK;
        while (rest.hasRemaining() && channel.read(rest, at + rest.position()) > 0) {
            // read it all
        }
        rest.flip();
        byte[] bytes = new byte[rest.remaining()];
        rest.get(bytes);
        AtomicFile.write(file, bytes);
        channel.close();
        channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        count = bytes.length / MARK;
    }

    /** How many marks the file holds. */
    synchronized long count() {
        return count;
    }

    private long[] read(long i) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(MARK);
        long at = i * MARK;
        while (b.hasRemaining()) {
            int r = channel.read(b, at + b.position());
            if (r < 0) {
                throw new IOException("time marks of queue '" + name + "' end early");
            }
        }
        b.flip();
        return new long[] {b.getLong(), b.getLong()};
    }

    @Override
    public synchronized void close() {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.warn("queue '{}': closing the time marks: {}", name, e.toString());
        }
    }
}
