package dev.spool.broker.audit;

import dev.spool.broker.config.BrokerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes {@link AuditEvent}s as JSON lines from a background thread. {@link #record} never blocks and
 * never throws: when the buffer is full the event is dropped and counted (and the count logged).
 *
 * <p>The file is rotated by size: before a line would take it past {@code maxFileBytes}, the writer renames it
 * to {@code <file>.<sequence>-<UTC time>} and starts a new one, between two lines, so no line is split, lost or written
 * twice. A second thread compresses each rotated file ({@link RotatedFileCompressor}) and deletes the oldest beyond
 * {@code maxFiles}. On disk there are then at most the current file and {@code maxFiles} rotated ones, each at
 * most {@code maxFileBytes} (a single line longer than that makes a file of its own).
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    /** Room for bursts of about a second at full push rate before events are dropped. */
    static final int BUFFER = 1 << 17;
    private static final long IDLE_PARK_NANOS = 1_000_000;
    private static final long MAX_PARK_NANOS = 64_000_000;

    private final BlockingQueue<AuditEvent> queue = new ArrayBlockingQueue<>(BUFFER);
    /** The open file, or null while it cannot be opened (the writer retries; events meanwhile are dropped). */
    private OutputStream out;
    /** Why the file is not open, for /health/ready; null while it is. */
    private volatile String openProblem;
    private long nextOpenAttemptNanos;
    private static final long REOPEN_EVERY_NANOS = 1_000_000_000L;
    private final Path file;
    private final long maxFileBytes;
    private final int maxFiles;
    private final RotatedFileCompressor compression;
    private long size;
    private final ExecutorService compressor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "spool-audit-compress");
        t.setDaemon(true);
        return t;
    });
    /** The next rotated file's sequence number: names sort by it, whatever the clock does. */
    private long nextSequence;
    private final AuditLines lines = new AuditLines();
    private final Thread writer;
    private final AtomicLong dropped = new AtomicLong();
    /** Estimated bytes of the events queued and not yet written. */
    private final AtomicLong buffered = new AtomicLong();
    private final long maxBufferBytes;
    private volatile long lastDropNanos;
    /** How long a drop keeps the log reported as dropping. */
    static final int DROP_MEMORY_SECONDS = 10;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private volatile boolean closing;
    /** Set when close() stops waiting for a writer that is behind: it drops the rest and ends. */
    private volatile boolean abandoned;

    /** A log without rotation (tests of the line format). */
    public AuditLog(Path file) throws IOException {
        this(file, Long.MAX_VALUE, Integer.MAX_VALUE, BrokerConfig.AuditCompress.AUTO, 64L << 20);
    }

    /**
     * @param maxFileBytes   rotate before the file would pass this size
     * @param maxFiles       rotated files to keep (the oldest beyond are deleted)
     * @param compress       how rotated files are compressed ({@link RotatedFileCompressor})
     * @param maxBufferBytes events waiting to be written take at most this much memory; beyond it they are dropped
     */
    public AuditLog(Path file, long maxFileBytes, int maxFiles, BrokerConfig.AuditCompress compress, long maxBufferBytes)
            throws IOException {
        this.maxBufferBytes = maxBufferBytes;
        this.file = file.toAbsolutePath();
        this.maxFileBytes = maxFileBytes;
        this.maxFiles = maxFiles;
        this.compression = new RotatedFileCompressor(compress);
        Files.createDirectories(this.file.getParent());
        out = open();
        // Half-written compressions a crash left are dropped (their plain files are still there).
        try (java.util.stream.Stream<Path> st = Files.list(this.file.getParent())) {
            for (Path p : st.filter(p -> p.getFileName().toString().startsWith(this.file.getFileName() + ".")
                    && p.getFileName().toString().endsWith(".tmp")).toList()) {
                RotatedFileCompressor.deleteQuietly(p);
            }
        }
        for (Path p : rotated()) {
            String n = p.getFileName().toString().substring(this.file.getFileName().toString().length() + 1);
            int dash = n.indexOf('-');
            try {
                nextSequence = Math.max(nextSequence, Long.parseLong(dash < 0 ? n : n.substring(0, dash)) + 1);
            } catch (NumberFormatException e) {
                // not one of ours
            }
        }
        // Rotated files a crash left uncompressed, and any excess, are dealt with first.
        for (Path p : rotated()) {
            if (compression.enabled() && !RotatedFileCompressor.isCompressed(p)) {
                compressor.execute(() -> compression.compress(p));
            }
        }
        compressor.execute(this::prune);

        writer = new Thread(this::run, "spool-audit");
        writer.setDaemon(true);
        writer.start();
    }

    /**
     * Queues an event for writing; drops it (counted) when the log is closing, or when it would take the events
     * waiting past {@code max_buffer_bytes} or their count past the buffer's.
     */
    public void record(AuditEvent e) {
        long size = e.sizeEstimate();
        if (closing || buffered.addAndGet(size) > maxBufferBytes) {
            buffered.addAndGet(-size);
            drop();
            return;
        }
        if (!queue.offer(e)) {
            buffered.addAndGet(-size);
            drop();
        }
    }

    private void drop() {
        dropped.incrementAndGet();
        lastDropNanos = System.nanoTime();
    }

    /** The most bytes one event may take: a 64th of the buffer (a larger body is recorded truncated). */
    public long maxEventBytes() {
        return maxBufferBytes / 64;
    }

    /** Bytes of the events waiting to be written (estimated as they were recorded). */
    public long bufferedBytes() {
        return buffered.get();
    }

    /**
     * What is wrong with the log for {@code /health/ready}, or null: the writer stopped, or events were dropped in
     * the last {@value #DROP_MEMORY_SECONDS} seconds (the disk is slower than the requests, or stalled).
     */
    public String problem() {
        if (!alive()) {
            return "writer stopped";
        }
        String open = openProblem;
        if (open != null) {
            return open;
        }
        long last = lastDropNanos;
        if (dropped.get() > 0 && System.nanoTime() - last < DROP_MEMORY_SECONDS * 1_000_000_000L) {
            return "dropping events: the writer is behind (" + dropped.get() + " dropped so far)";
        }
        return null;
    }

    /** Events written to the file so far. */
    public long written() {
        return written.get();
    }

    /** Bytes written to the file so far. */
    public long bytesWritten() {
        return bytes.get();
    }

    /** Whether the writer thread runs and the log is open. */
    public boolean alive() {
        return !closing && writer.isAlive();
    }

    /** Events dropped because the buffer was full or the log closed. */
    public long dropped() {
        return dropped.get();
    }

    private void run() {
        List<AuditEvent> batch = new ArrayList<>(4096);
        long reportedDrops = 0;
        long park = IDLE_PARK_NANOS;
        while (true) {
            try {
                // Polling with a short park instead of blocking on the queue: producers never have to wake
                // the writer (no futex call per request); events wait at most about a millisecond.
                if (out == null) {
                    reopen();
                }
                if (abandoned || queue.drainTo(batch, 4096) == 0) {
                    if (closing) {
                        break;
                    }
                    if (out != null) {
                        out.flush();
                    }
                    LockSupport.parkNanos(park);
                    // Back off while idle (an idle broker costs no CPU), back to 1 ms once busy.
                    park = Math.min(MAX_PARK_NANOS, park * 2);
                    continue;
                }
                park = IDLE_PARK_NANOS;
                long before = written.get();
                try {
                    for (AuditEvent e : batch) {
                        if (abandoned) {
                            break; // close() gave up waiting
                        }
                        write(e);
                    }
                } finally {
                    long freed = 0;
                    for (AuditEvent e : batch) {
                        freed += e.sizeEstimate();
                    }
                    buffered.addAndGet(-freed);
                    // What a failed write or an abandoned close left of the batch is lost: counted as dropped,
                    // like events a full buffer turns away.
                    dropped.addAndGet(batch.size() - (written.get() - before));
                    batch.clear();
                }
                long d = dropped.get();
                if (d != reportedDrops) {
                    LOG.warn("audit log buffer full: {} events dropped so far", d);
                    reportedDrops = d;
                }
            } catch (IOException e) {
                if (out != null) {
                    // The file failed under the writer: it is closed and opened again, as after a failed open.
                    try {
                        out.close();
                    } catch (IOException ignored) {
                        // it failed already
                    }
                    openFailed(e);
                }
                batch.clear();
            } catch (RuntimeException e) {
                LOG.error("audit log write failed (requests are unaffected): {}", e.toString());
                batch.clear();
            }
        }
        // Whatever is left (abandoned, or offered just as the log closed) is counted, never silently lost.
        batch.clear();
        dropped.addAndGet(queue.drainTo(batch));
        batch.forEach(e -> buffered.addAndGet(-e.sizeEstimate()));
        // The writer owns the file: it closes it last, so nothing writes to a closed stream after close().
        try {
            if (out != null) {
                out.close();
            }
        } catch (IOException e) {
            LOG.error("audit log close failed: {}", e.toString());
        }
    }

    /**
     * Opens the file again after it could not be (on the writer thread), at most once a second; meanwhile events are
     * dropped and counted, and /health/ready says why.
     */
    private void reopen() {
        long now = System.nanoTime();
        if (now - nextOpenAttemptNanos < 0) {
            return;
        }
        nextOpenAttemptNanos = now + REOPEN_EVERY_NANOS;
        try {
            out = open();
            openProblem = null;
            LOG.warn("audit log {} is open again", file);
        } catch (IOException e) {
            LOG.debug("audit log {} still cannot be opened: {}", file, e.toString());
        }
    }

    /** Records that the file cannot be opened: the writer retries every second. */
    private void openFailed(IOException e) {
        out = null;
        openProblem = "cannot write its file (see the broker's log); retrying every second";
        nextOpenAttemptNanos = System.nanoTime() + REOPEN_EVERY_NANOS;
        LOG.error("audit log: cannot write {} ({}); events are dropped and counted until it opens again (retried "
                + "every second)", file, e.toString());
    }

    private OutputStream open() throws IOException {
        size = Files.exists(file) ? Files.size(file) : 0;
        return new BufferedOutputStream(new FileOutputStream(file.toFile(), true), 1 << 16);
    }

    /** Renames the current file aside (to be compressed) and starts a new one. On the writer thread. */
    private void rotate() throws IOException {
        out.close();
        String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
                .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now());
        Path aside = file.resolveSibling(file.getFileName() + "." + String.format("%010d", nextSequence++) + "-" + stamp);
        try {
            Files.move(file, aside, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.error("rotating the audit log failed (writing on in {}): {}", file, e.toString());
            size = 0; // try again after another max_file_bytes rather than at every line
            try {
                out = open();
            } catch (IOException notOpened) {
                openFailed(notOpened);
            }
            return;
        }
        try {
            out = open();
        } catch (IOException notOpened) {
            openFailed(notOpened);
            return;
        }
        compressor.execute(() -> {
            if (compression.enabled()) {
                compression.compress(aside);
            }
            prune();
        });
    }

    /** {@code <file>.<stamp>} and {@code <file>.<stamp>.zst} or {@code .gz}, oldest first. */
    private List<Path> rotated() throws IOException {
        String prefix = file.getFileName() + ".";
        try (java.util.stream.Stream<Path> s = Files.list(file.getParent())) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix) && n.length() > prefix.length() && Character.isDigit(n.charAt(prefix.length()))
                        && !n.endsWith(".tmp");
            }).sorted().toList();
        }
    }

    private void prune() {
        try {
            List<Path> all = rotated();
            for (int i = 0; i < all.size() - maxFiles; i++) {
                Files.deleteIfExists(all.get(i));
            }
        } catch (IOException | RuntimeException e) {
            LOG.error("deleting old audit files failed: {}", e.toString());
        }
    }

    private void write(AuditEvent e) throws IOException {
        if (out == null) {
            throw new IOException("the audit file is not open");
        }
        JsonLine l = lines.render(e);
        if (size > 0 && size + l.length() > maxFileBytes) {
            rotate();
            if (out == null) {
                throw new IOException("the audit file could not be opened after rotation");
            }
        }
        int n = l.writeTo(out);
        size += n;
        bytes.addAndGet(n);
        written.incrementAndGet();
    }

    /** Writes what is buffered and stops the writer. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        try {
            writer.join(10_000);
            if (writer.isAlive()) {
                abandoned = true;
                LOG.warn("the audit log is still writing after 10 s (a slow disk?): the events not yet written are "
                        + "dropped; the file is closed when the current write returns");
                writer.join(5_000);
            }
            compressor.shutdown();
            if (!compressor.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
                LOG.warn("audit files still being compressed after 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
