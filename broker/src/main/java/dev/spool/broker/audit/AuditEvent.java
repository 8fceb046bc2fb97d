package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.Map;

/**
 * One request and its response, as the audit log writes it.
 *
 * @param headers  request headers with secrets already redacted
 * @param metadata the message's metadata, if the request carried one
 * @param body     the request body after the body policy: a {@link JsonNode}, {@link RawJson}, a truncated
 *                 {@code String}, or null
 */
public record AuditEvent(Instant time, String sourceAddress, int sourcePort, String host, int port,
                         String method, String path, int status, double latencyMs, String user,
                         Integer role, Map<String, String> headers, JsonNode metadata, Object body) {

    /** A request body that was validated as JSON, kept as its bytes to avoid re-serialising it. */
    public record RawJson(byte[] json) {
    }
}
