package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.List;

/** Renders audit events as JSON lines, by hand (see {@link JsonLine}). The audit writer's thread only. */
final class AuditLines {
    private final ObjectMapper json = new ObjectMapper();
    private final JsonLine line = new JsonLine();
    private long lastMillis = Long.MIN_VALUE;
    private String lastTime;

    /** Client addresses as text, as the writer last rendered them (writer thread only; emptied past 4,096). */
    private final java.util.Map<java.net.InetAddress, String> addresses = new java.util.HashMap<>();

    private String addressText(java.net.InetAddress a) {
        String text = addresses.get(a);
        if (text == null) {
            if (addresses.size() >= 4096) {
                addresses.clear();
            }
            text = a.getHostAddress();
            addresses.put(a, text);
        }
        return text;
    }

    /** The event as one JSON line, ending in a newline, in a buffer reused by the next call. */
    JsonLine render(AuditEvent e) throws IOException {
        JsonLine l = line;
        l.reset();
        if (e.timeMillis() != lastMillis) {
            lastMillis = e.timeMillis();
            lastTime = java.time.Instant.ofEpochMilli(lastMillis).toString();
        }
        l.raw("{\"time\":").string(lastTime);
        java.net.InetSocketAddress src = e.source();
        l.raw(",\"source\":{\"address\":").string(src == null ? null : addressText(src.getAddress()))
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
            String value = h.get(i + 1);
            l.raw(i == 0 ? "" : ",").string(h.get(i)).raw((byte) ':')
                    .string(Tokens.carriesToken(value) ? Tokens.REDACTED : value);
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
        return l;
    }
}
