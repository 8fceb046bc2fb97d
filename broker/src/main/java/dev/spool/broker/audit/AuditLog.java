package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonGenerator;
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
    private JsonGenerator gen;
    private final Thread writer;
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closing;

    public AuditLog(Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        out = new BufferedOutputStream(new FileOutputStream(abs.toFile(), true), 1 << 16);
        gen = newGenerator();
        writer = new Thread(this::run, "spool-audit");
        writer.setDaemon(true);
        writer.start();
    }

    private JsonGenerator newGenerator() {
        try {
            JsonGenerator g = json.getFactory().createGenerator(out);
            g.setRootValueSeparator(null);
            g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            return g;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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
                    gen.flush();
                    LockSupport.parkNanos(park);
                    // Back off while idle (an idle broker costs no CPU), back to 1 ms once busy.
                    park = Math.min(MAX_PARK_NANOS, park * 2);
                    continue;
                }
                park = IDLE_PARK_NANOS;
                for (AuditEvent e : batch) {
                    write(gen, e);
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
                gen = newGenerator();
            }
        }
        try {
            gen.flush();
        } catch (IOException e) {
            LOG.error("audit log flush failed: {}", e.toString());
        }
    }

    private void write(JsonGenerator g, AuditEvent e) throws IOException {
        g.writeStartObject();
        g.writeStringField("time", e.time().toString());
        g.writeObjectFieldStart("source");
        g.writeStringField("address", e.sourceAddress());
        g.writeNumberField("port", e.sourcePort());
        g.writeEndObject();
        g.writeObjectFieldStart("destination");
        g.writeStringField("host", e.host());
        g.writeNumberField("port", e.port());
        g.writeStringField("method", e.method());
        g.writeStringField("path", e.path());
        g.writeEndObject();
        g.writeNumberField("status", e.status());
        g.writeNumberField("latency_ms", Math.round(e.latencyMs() * 1000) / 1000.0);
        g.writeStringField("user", e.user());
        if (e.role() == null) {
            g.writeNullField("role");
        } else {
            g.writeNumberField("role", e.role());
        }
        g.writeObjectFieldStart("headers");
        for (var h : e.headers().entrySet()) {
            g.writeStringField(h.getKey(), h.getValue());
        }
        g.writeEndObject();
        g.writeFieldName("metadata");
        g.writeTree(e.metadata());
        g.writeFieldName("body");
        if (e.body() instanceof com.fasterxml.jackson.databind.JsonNode n) {
            g.writeTree(n);
        } else if (e.body() instanceof AuditEvent.RawJson raw) {
            g.writeRawValue(raw.json());
        } else if (e.body() == null) {
            g.writeNull();
        } else {
            g.writeString(e.body().toString());
        }
        g.writeEndObject();
        g.writeRaw('\n');
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
