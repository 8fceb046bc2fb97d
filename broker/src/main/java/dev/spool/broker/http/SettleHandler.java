package dev.spool.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.SettleResult;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code POST /queues/{name}/acks} {@code {"leases":[...]}}, {@code .../nacks} {@code {"leases":[...],
 * "delay_seconds":D}} and {@code .../renewals} {@code {"leases":[...],"visibility_seconds":S}}: 200
 * {@code {"acked"|"released"|"renewed": n, "rejected": [{"lease":..,"reason":"expired"|"unknown"}]}}.
 */
final class SettleHandler implements HttpHandler {
    enum Kind { ACK, NACK, RENEW }

    private final Api api;
    private final Kind kind;

    SettleHandler(Api api, Kind kind) {
        this.api = api;
        this.kind = kind;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        Exchanges.requireJson(ex);
        Exchanges.readBody(ex, api.config().maxBatchBytes(), (e, body) -> {
            JsonNode req = Json.parse(body);
            e.putAttachment(Exchanges.AUDIT_BODY, req);
            if (!req.isObject() || !req.path("leases").isArray()) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "body must be {\"leases\": [\"...\", ...]}");
            }
            List<String> leases = new ArrayList<>();
            for (JsonNode l : req.get("leases")) {
                if (!l.isTextual()) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "leases must be strings, found " + l);
                }
                leases.add(l.asText());
            }
            if (leases.size() > api.config().maxBatchMessages()) {
                throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "at most " + api.config().maxBatchMessages()
                        + " leases per request");
            }
            if (api.pullBlocks()) {
                Exchanges.onWorker(e, (e2, b) -> settle(e2, name, req, leases), null);
            } else {
                settle(e, name, req, leases);
            }
        });
    }

    private void settle(HttpServerExchange ex, String name, JsonNode req, List<String> leases) {
        SettleResult r;
        String field;
        switch (kind) {
            case ACK -> {
                r = api.store().ack(name, leases);
                field = "acked";
            }
            case NACK -> {
                long delay = seconds(req, "delay_seconds", 0, 0);
                r = api.store().nack(name, leases, Duration.ofSeconds(delay));
                field = "released";
                if (delay == 0 && r.accepted() > 0) {
                    api.waiters().signal(name, r.accepted());
                }
            }
            case RENEW -> {
                long vis = seconds(req, "visibility_seconds", api.config().visibilitySeconds(), 1);
                r = api.store().renew(name, leases, Duration.ofSeconds(vis));
                field = "renewed";
            }
            default -> throw new IllegalStateException();
        }
        if (r.missing()) {
            throw PushHandler.missing(name);
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put(field, r.accepted());
        ArrayNode rejected = out.putArray("rejected");
        for (SettleResult.Rejected x : r.rejected()) {
            rejected.addObject().put("lease", x.lease()).put("reason", x.reason().name().toLowerCase(Locale.ROOT));
        }
        Json.send(ex, 200, out);
    }

    private static long seconds(JsonNode req, String field, long dflt, long min) {
        JsonNode v = req.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > 43_200) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, field + " must be an integer from " + min + " to 43200, was " + v);
        }
        return v.asLong();
    }
}
