package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes {@link AuditEvent}s as JSON lines from a background thread. {@link #record} never blocks and
 * never throws: when the buffer is full the event is dropped and counted (and the count logged).
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    /** Room for bursts of about a second at full push rate before events are dropped. */
    static final int BUFFER = 1 << 17;
    private static final long IDLE_PARK_NANOS = 1_000_000;
    private static final long MAX_PARK_NANOS = 64_000_000;

    private final BlockingQueue<AuditEvent> queue = new ArrayBlockingQueue<>(BUFFER);
    private final ObjectMapper json = new ObjectMapper();
    private final OutputStream out;
    private final JsonLine line = new JsonLine();
    private long lastMillis = Long.MIN_VALUE;
    private String lastTime;
    private final Thread writer;
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closing;

    public AuditLog(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        out = new BufferedOutputStream(new FileOutputStream(abs.toFile(), true), 1 << 16);

        writer = new Thread(this::run, "spool-audit");
        writer.setDaemon(true);
        writer.start();
    }

    /** Queues an event for writing. */
    public void record(AuditEvent e) {
        if (closing || !queue.offer(e)) {
            dropped.incrementAndGet();
        }
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
                if (queue.drainTo(batch, 4096) == 0) {
                    if (closing) {
                        break;
                    }
                    out.flush();
                    LockSupport.parkNanos(park);
                    // Back off while idle (an idle broker costs no CPU), back to 1 ms once busy.
                    park = Math.min(MAX_PARK_NANOS, park * 2);
                    continue;
                }
                park = IDLE_PARK_NANOS;
                for (AuditEvent e : batch) {
                    write(e);
                }
                batch.clear();
                long d = dropped.get();
                if (d != reportedDrops) {
                    LOG.warn("audit log buffer full: {} events dropped so far", d);
                    reportedDrops = d;
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("audit log write failed (requests are unaffected): {}", e.toString());
                batch.clear();
            }
        }
        try {
            out.flush();
        } catch (IOException e) {
            LOG.error("audit log flush failed: {}", e.toString());
        }
    }

    private void write(AuditEvent e) throws IOException {
        JsonLine l = line;
        l.reset();
        if (e.timeMillis() != lastMillis) {
            lastMillis = e.timeMillis();
            lastTime = java.time.Instant.ofEpochMilli(lastMillis).toString();
        }
        l.raw("{\"time\":").string(lastTime);
        java.net.InetSocketAddress src = e.source();
        l.raw(",\"source\":{\"address\":").string(src == null ? null : src.getAddress().getHostAddress())
                .raw(",\"port\":").number(src == null ? 0 : src.getPort());
        l.raw("},\"destination\":{\"host\":").string(e.host()).raw(",\"port\":").number(e.port());
        l.raw(",\"method\":").string(e.method()).raw(",\"path\":").string(e.path());
        l.raw("},\"status\":").number(e.status());
        l.raw(",\"latency_ms\":").number(Math.round(e.latencyMs() * 1000) / 1000.0);
        l.raw(",\"user\":").string(e.user());
        l.raw(",\"role\":").raw(e.role() == null ? "null" : e.role().toString());
        l.raw(",\"headers\":{");
        List<String> h = e.headers();
        for (int i = 0; i + 1 < h.size(); i += 2) {
            l.raw(i == 0 ? "" : ",").string(h.get(i)).raw((byte) ':').string(h.get(i + 1));
        }
        l.raw("},\"metadata\":");
        if (e.metadata() == null) {
            l.raw("null");
        } else if (e.metadata() instanceof AuditEvent.RawJson raw) {
            l.json(raw.json());
        } else {
            l.json(json.writeValueAsBytes(e.metadata()));
        }
        l.raw(",\"body\":");
        if (e.body() instanceof com.fasterxml.jackson.databind.JsonNode n) {
            l.json(json.writeValueAsBytes(n));
        } else if (e.body() instanceof AuditEvent.RawJson raw) {
            l.json(raw.json());
        } else if (e.body() == null) {
            l.raw("null");
        } else {
            l.string(e.body().toString());
        }
        l.raw("}\n");
        l.writeTo(out);
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
            out.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            LOG.error("closing audit log: {}", e.toString());
        }
    }
}
