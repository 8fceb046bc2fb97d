package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Principal;
import dev.spool.broker.config.BrokerConfig;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;

import java.net.InetAddress;
import java.time.Clock;

/** The one audit wrapper: records every request when its response completes. Never fails a request. */
public final class AuditHandler implements HttpHandler {
    private static final String REDACTED = "[REDACTED]";

    private final AuditLog log;
    private final BrokerConfig.AuditBody bodyPolicy;
    /** A body above this is recorded truncated whatever the policy: one event may not take the buffer's room. */
    private final long maxBodyBytes;
    /** A header value above this is recorded truncated (a sender of huge headers cannot fill the buffer). */
    private static final int MAX_HEADER_CHARS = 4096;
    private final int maxChars;
    private final Clock clock;
    private final HttpHandler next;

    public AuditHandler(AuditLog log, BrokerConfig.AuditBody bodyPolicy, int maxChars, long maxBodyBytes, Clock clock,
                        HttpHandler next) {
        this.maxBodyBytes = maxBodyBytes;
        this.log = log;
        this.bodyPolicy = bodyPolicy;
        this.maxChars = maxChars;
        this.clock = clock;
        this.next = next;
    }

    /** The listeners' own addresses as text: a handful, looked up on every request. */
    private static final java.util.Map<InetAddress, String> LISTENERS = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        long start = System.nanoTime();
        ex.addExchangeCompleteListener((e, nextListener) -> {
            try {
                log.record(event(e, start));
            } catch (RuntimeException ignored) {
                // Recording an event never affects the request.
            } finally {
                nextListener.proceed();
            }
        });
        next.handleRequest(ex);
    }

    private AuditEvent event(HttpServerExchange ex, long start) {
        // Only references and primitives here (this runs on the IO thread); the writer thread formats.
        java.util.List<String> headers = new java.util.ArrayList<>(16);
        for (HeaderValues h : ex.getRequestHeaders()) {
            io.undertow.util.HttpString name = h.getHeaderName();
            headers.add(name.toString());
            String value = isSecret(name) ? REDACTED : h.size() == 1 ? h.getFirst() : String.join(", ", h);
            headers.add(value.length() <= MAX_HEADER_CHARS ? value
                    : value.substring(0, MAX_HEADER_CHARS) + "...(truncated)");
        }
        AuditNotes notes = AuditNotes.peek(ex);
        Principal p = notes == null ? null : notes.principal;
        String user = p != null ? p.username() : notes == null ? null : notes.user;
        JsonNode body = notes == null ? null : notes.body;
        Object metadata = notes == null ? null : notes.metadata;
        if (metadata == null && body != null && body.isObject()) {
            metadata = body.get("metadata");
        }
        String query = ex.getQueryString();
        String path = query.isEmpty() ? ex.getRequestPath() : ex.getRequestPath() + "?" + redactQuery(query);
        // The listener's own address, not the client's Host header (which the client writes).
        java.net.InetSocketAddress local = ex.getDestinationAddress();
        return new AuditEvent(clock.millis(), ex.getSourceAddress(),
                local == null ? null : LISTENERS.computeIfAbsent(local.getAddress(), InetAddress::getHostAddress),
                local == null ? 0 : local.getPort(),
                ex.getRequestMethod().toString(), path, ex.getStatusCode(), (System.nanoTime() - start) / 1e6, user,
                p == null ? null : p.role().code(), headers, metadata,
                applyPolicy(body, notes == null ? null : notes.rawBody, notes == null ? null : notes.textBody));
    }

    /** Query parameters that carry credentials, whatever their case: their values are never logged. */
    private static final java.util.regex.Pattern SECRET_PARAM = java.util.regex.Pattern.compile(
            "(?i)([;&]|^)((?:access_)?token|auth(?:orization)?|password|passwd|api_?key|secret)=[^&;]*");

    static String redactQuery(String query) {
        return SECRET_PARAM.matcher(query).replaceAll("$1$2=" + REDACTED);
    }

    private static boolean isSecret(io.undertow.util.HttpString name) {
        return name.equals(io.undertow.util.Headers.AUTHORIZATION) || name.equals(PROXY_AUTHORIZATION)
                || name.equals(io.undertow.util.Headers.COOKIE) || name.equals(io.undertow.util.Headers.SET_COOKIE);
    }

    private static final io.undertow.util.HttpString PROXY_AUTHORIZATION =
            new io.undertow.util.HttpString("Proxy-Authorization");

    /**
     * The text of a body already parsed as valid JSON, on one line: in valid JSON a raw CR or LF can only
     * be whitespace between tokens (inside strings they must be escaped), so replacing them is safe
     * (the audit writer does the same for full bodies).
     */
    private static String oneLine(byte[] raw) {
        String s = new String(raw, java.nio.charset.StandardCharsets.UTF_8);
        return s.indexOf('\n') < 0 && s.indexOf('\r') < 0 ? s : s.replace('\n', ' ').replace('\r', ' ');
    }

    /**
     * The body as the audit line shows it. Only a body validated as one JSON value goes in as JSON; anything
     * else (a rejected body, NDJSON) is an escaped string, so no request can write the line's own fields.
     * Such a string is capped at {@code body_max_chars} whatever the policy.
     */
    private Object applyPolicy(JsonNode body, byte[] raw, byte[] text) {
        if (bodyPolicy == BrokerConfig.AuditBody.OMIT || (body == null && raw == null && text == null)) {
            return null;
        }
        if (raw == null && body == null) {
            // Only the first characters are decoded: a rejected body may be megabytes.
            int n = (int) Math.min(text.length, 4L * maxChars);
            return capped(new String(text, 0, n, java.nio.charset.StandardCharsets.UTF_8));
        }
        if (raw != null && raw.length > maxBodyBytes && bodyPolicy == BrokerConfig.AuditBody.FULL) {
            // Too large to hold whole while it waits: kept as the truncate policy keeps it, from its first bytes only.
            return capped(oneLine(java.util.Arrays.copyOf(raw, (int) Math.min(raw.length, 4L * maxChars))));
        }
        return switch (bodyPolicy) {
            case FULL -> raw == null ? body : new AuditEvent.RawJson(raw);
            case OMIT -> null;
            case TRUNCATE -> capped(raw != null ? oneLine(raw) : body.toString());
        };
    }

    private String capped(String s) {
        return s.length() <= maxChars ? s : s.substring(0, maxChars) + "...(truncated)";
    }
}
