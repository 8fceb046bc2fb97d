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

    /** A request body that was validated as JSON, kept as its bytes to avoid re-serialising it. */
    public record RawJson(byte[] json) {
    }
}
