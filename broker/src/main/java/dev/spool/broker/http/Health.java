package dev.spool.broker.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.broker.audit.AuditLog;
import io.undertow.server.HttpServerExchange;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code GET /health/live} (the process serves) and {@code GET /health/ready}: the store is open and the broker
 * not shutting down, the data disk is above its free-space floor ({@code storage.min_free_bytes}), and the audit
 * writer runs (when the audit log is on). Each answer names every check; ready is 200 or 503.
 */
public final class Health {
    private final Path dataDir;
    private final long minFreeBytes;
    private final AuditLog audit;
    private volatile boolean stopping;

    /**
     * @param audit the audit log, or null when it is off (then it is not checked)
     */
    public Health(Path dataDir, long minFreeBytes, AuditLog audit) {
        this.dataDir = dataDir;
        this.minFreeBytes = minFreeBytes;
        this.audit = audit;
    }

    /** From now on, not ready: the broker is shutting down. */
    public void stopping() {
        stopping = true;
    }

    /** Free bytes on the data disk, or -1 if they cannot be read. */
    public long freeBytes() {
        try {
            return Files.getFileStore(dataDir).getUsableSpace();
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
        long free = freeBytes();
        boolean disk = free >= minFreeBytes;
        checks.putObject("disk").put("ok", disk).put("free_bytes", free).put("floor_bytes", minFreeBytes)
                .put("detail", disk ? "above the free-space floor" : free < 0 ? "free space cannot be read"
                        : "under storage.min_free_bytes: pushes are refused");
        boolean auditOk = audit == null || audit.alive();
        checks.putObject("audit").put("ok", auditOk).put("detail", audit == null ? "off (audit.enabled: false)"
                : auditOk ? "writer running" : "writer stopped");
        boolean ok = store && disk && auditOk;
        ObjectNode out = Json.MAPPER.createObjectNode().put("status", ok ? "ready" : "not_ready");
        out.set("checks", checks);
        Json.send(ex, ok ? 200 : 503, out);
    }
}
