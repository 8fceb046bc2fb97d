package dev.spool.broker.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.broker.audit.AuditLog;
import io.undertow.server.HttpServerExchange;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code GET /health/live} (the process serves) and {@code GET /health/ready}: the store is open and the broker
 * not shutting down, the data disk is above its free-space floor ({@code storage.min_free_bytes}), and the audit
 * writer runs (when the audit log is on), and every queue takes changes (none stopped after a failed sync). Each
 * answer names every check; ready is 200 or 503.
 */
public final class Health {
    private final Path dataDir;
    private final long minFreeBytes;
    private final AuditLog audit;
    private final Supplier<Map<String, String>> failedQueues;
    private final Supplier<String> kafka;
    private volatile boolean stopping;

    /**
     * @param audit        the audit log, or null when it is off (then it is not checked)
     * @param failedQueues the queues that take no changes since a sync of their files failed, with the reason
     */
    public Health(Path dataDir, long minFreeBytes, AuditLog audit, Supplier<Map<String, String>> failedQueues) {
        this(dataDir, minFreeBytes, audit, failedQueues, null);
    }

    /** @param kafka why the Kafka cluster cannot serve now (null while it can), or null on the journal backend */
    public Health(Path dataDir, long minFreeBytes, AuditLog audit, Supplier<Map<String, String>> failedQueues,
                  Supplier<String> kafka) {
        this.kafka = kafka;
        this.dataDir = dataDir;
        this.minFreeBytes = minFreeBytes;
        this.audit = audit;
        this.failedQueues = failedQueues;
    }

    /** From now on, not ready: the broker is shutting down. */
    public void stopping() {
        stopping = true;
    }

    /** Free bytes on the data disk, or -1 if they cannot be read or the file system reports no size at all. */
    public long freeBytes() {
        return Math.max(-1, measure());
    }

    /** What {@link #measure} answers for a file system that reports no size (some FUSE and network ones). */
    private static final long NO_SIZE = -2;

    /** Free bytes on the data disk; -1 if they cannot be read, {@link #NO_SIZE} if the file system has no size. */
    private long measure() {
        try {
            FileStore fs = Files.getFileStore(dataDir);
            return fs.getTotalSpace() == 0 ? NO_SIZE : fs.getUsableSpace();
        } catch (IOException e) {
            return -1;
        }
    }

    void live(HttpServerExchange ex) {
        Json.send(ex, 200, Json.MAPPER.createObjectNode().put("status", "ok"));
    }

    void ready(HttpServerExchange ex) {
        ObjectNode checks = Json.MAPPER.createObjectNode();
        boolean store = !stopping;
        checks.putObject("store").put("ok", store).put("detail", store ? "open" : "shutting down");
        long measured = measure();
        long free = Math.max(-1, measured);
        boolean unknownSize = measured == NO_SIZE;
        boolean disk = minFreeBytes == 0 || unknownSize || free >= minFreeBytes;
        checks.putObject("disk").put("ok", disk).put("free_bytes", free).put("floor_bytes", minFreeBytes)
                .put("detail", minFreeBytes == 0 ? "no free-space floor (storage.min_free_bytes: 0)"
                        : unknownSize ? "the file system reports no size: free space unknown, floor not enforced"
                        : disk ? "above the free-space floor" : free < 0 ? "free space cannot be read"
                        : "under storage.min_free_bytes: pushes are refused");
        Map<String, String> failed = failedQueues.get();
        ObjectNode queues = checks.putObject("queues").put("ok", failed.isEmpty()).put("detail", failed.isEmpty()
                ? "every queue takes changes"
                : "queues take no changes since a sync of their files failed; restart the broker to re-check them");
        ObjectNode byName = queues.putObject("failed");
        failed.forEach(byName::put);
        String auditProblem = audit == null ? null : audit.problem();
        boolean auditOk = auditProblem == null;
        checks.putObject("audit").put("ok", auditOk).put("detail", audit == null ? "off (audit.enabled: false)"
                : auditOk ? "writer running" : auditProblem);
        boolean kafkaOk = true;
        if (kafka != null) {
            String problem = kafka.get();
            kafkaOk = problem == null;
            checks.putObject("kafka").put("ok", kafkaOk).put("detail", kafkaOk ? "the cluster answers" : problem);
        }
        boolean ok = store && disk && auditOk && failed.isEmpty() && kafkaOk;
        ObjectNode out = Json.MAPPER.createObjectNode().put("status", ok ? "ready" : "not_ready");
        out.set("checks", checks);
        Json.send(ex, ok ? 200 : 503, out);
    }
}
