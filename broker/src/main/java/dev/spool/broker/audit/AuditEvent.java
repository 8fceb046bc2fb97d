package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One request and its response, as the audit log writes it.
 *
 * @param timeMillis when the response completed
 * @param source   the client's address and port, or null
 * @param headers  request headers as name, value, name, value, ..., with secrets already redacted
 * @param metadata the message's metadata if the request carried one: a {@link JsonNode} or {@link RawJson}
 * @param body     the request body after the body policy: a {@link JsonNode}, {@link RawJson}, a truncated
 *                 {@code String}, or null
 */
public record AuditEvent(long timeMillis, InetSocketAddress source, String host, int port,
                         String method, String path, int status, double latencyMs, String user,
                         Integer role, List<String> headers, Object metadata, Object body) {

    /** Bytes an event costs besides its headers, metadata and body (its fields, the objects holding them). */
    private static final int OVERHEAD = 256;

    /**
     * About how much memory the event holds while it waits to be written: what the audit buffer's byte bound
     * counts. The same for the same event, so the writer can give back what {@code record} took.
     */
    public long sizeEstimate() {
        long n = OVERHEAD + (path == null ? 0 : 2L * path.length());
        for (String h : headers) {
            n += 40 + 2L * h.length();
        }
        return n + sizeOf(metadata) + sizeOf(body);
    }

    private static long sizeOf(Object o) {
        if (o == null) {
            return 0;
        }
        if (o instanceof RawJson r) {
            return 16 + r.json().length;
        }
        if (o instanceof String s) {
            return 40 + 2L * s.length();
        }
        return OVERHEAD; // a small parsed JSON tree (a login, a queue's options)
    }

    /** A request body that was validated as JSON, kept as its bytes to avoid re-serialising it. */
    public record RawJson(byte[] json) {
    }
}
