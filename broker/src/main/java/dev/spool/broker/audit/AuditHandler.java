package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Principal;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.http.Exchanges;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;

import java.time.Clock;

/** The one audit wrapper: records every request when its response completes. Never fails a request. */
public final class AuditHandler implements HttpHandler {
    private static final String REDACTED = "[REDACTED]";

    private final AuditLog log;
    private final BrokerConfig.AuditBody bodyPolicy;
    private final int maxChars;
    private final Clock clock;
    private final HttpHandler next;

    public AuditHandler(AuditLog log, BrokerConfig.AuditBody bodyPolicy, int maxChars, Clock clock, HttpHandler next) {
        this.log = log;
        this.bodyPolicy = bodyPolicy;
        this.maxChars = maxChars;
        this.clock = clock;
        this.next = next;
    }

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
            headers.add(isSecret(name) ? REDACTED : h.size() == 1 ? h.getFirst() : String.join(", ", h));
        }
        Principal p = ex.getAttachment(Exchanges.PRINCIPAL);
        String user = p != null ? p.username() : ex.getAttachment(Exchanges.AUDIT_USER);
        JsonNode body = ex.getAttachment(Exchanges.AUDIT_BODY);
        Object metadata = ex.getAttachment(Exchanges.AUDIT_METADATA);
        if (metadata == null && body != null && body.isObject()) {
            metadata = body.get("metadata");
        }
        String query = ex.getQueryString();
        String path = query.isEmpty() ? ex.getRequestPath() : ex.getRequestPath() + "?" + query;
        return new AuditEvent(clock.millis(), ex.getSourceAddress(), ex.getHostName(), ex.getHostPort(),
                ex.getRequestMethod().toString(), path, ex.getStatusCode(), (System.nanoTime() - start) / 1e6, user,
                p == null ? null : p.role().code(), headers, metadata,
                applyPolicy(body, ex.getAttachment(Exchanges.AUDIT_RAW_BODY)));
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

    private Object applyPolicy(JsonNode body, byte[] raw) {
        if (body == null && raw == null) {
            return null;
        }
        return switch (bodyPolicy) {
            case FULL -> raw == null ? body : new AuditEvent.RawJson(raw);
            case OMIT -> null;
            case TRUNCATE -> {
                String s = raw != null ? oneLine(raw) : body.toString();
                yield s.length() <= maxChars ? s : s.substring(0, maxChars) + "...(truncated)";
            }
        };
    }
}
