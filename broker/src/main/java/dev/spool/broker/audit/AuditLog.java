package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes {@link AuditEvent}s as JSON lines from a background thread. {@link #record} never blocks and
 * never throws: when the buffer is full the event is dropped and counted (and the count logged).
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    /** Room for bursts of about a second at full push rate before events are dropped. */
    static final int BUFFER = 1 << 17;

    private final BlockingQueue<AuditEvent> queue = new ArrayBlockingQueue<>(BUFFER);
    private final ObjectMapper json = new ObjectMapper();
    private final OutputStream out;
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
        List<AuditEvent> batch = new ArrayList<>(1024);
        long reportedDrops = 0;
        while (true) {
            try {
                AuditEvent first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closing) {
                        break;
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, 1023);
                for (AuditEvent e : batch) {
                    out.write(json.writeValueAsBytes(toJson(e)));
                    out.write('\n');
                }
                batch.clear();
                if (queue.isEmpty()) {
                    out.flush();
                }
                long d = dropped.get();
                if (d != reportedDrops) {
                    LOG.warn("audit log buffer full: {} events dropped so far", d);
                    reportedDrops = d;
                }
            } catch (InterruptedException e) {
                break;
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

    private ObjectNode toJson(AuditEvent e) {
        ObjectNode n = json.createObjectNode();
        n.put("time", e.time().toString());
        ObjectNode src = n.putObject("source");
        src.put("address", e.sourceAddress());
        src.put("port", e.sourcePort());
        ObjectNode dst = n.putObject("destination");
        dst.put("host", e.host());
        dst.put("port", e.port());
        dst.put("method", e.method());
        dst.put("path", e.path());
        n.put("status", e.status());
        n.put("latency_ms", Math.round(e.latencyMs() * 1000) / 1000.0);
        n.put("user", e.user());
        if (e.role() == null) {
            n.putNull("role");
        } else {
            n.put("role", e.role());
        }
        n.set("headers", json.valueToTree(e.headers()));
        n.set("metadata", e.metadata());
        n.set("body", json.valueToTree(e.body()));
        return n;
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
