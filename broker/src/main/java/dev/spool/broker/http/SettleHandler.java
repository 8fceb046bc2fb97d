package dev.spool.broker.http;

import dev.spool.broker.audit.AuditNotes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.SettleResult;
import dev.spool.storage.StoreContract;
import dev.spool.storage.Settlement;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /queues/{name}[/subscriptions/{sub}]/acks} {@code {"leases":[...]}}, {@code .../nacks} {@code {"leases":[...],
 * "delay_seconds":D}} and {@code .../renewals} {@code {"leases":[...],"visibility_seconds":S}}: 200
 * {@code {"acked"|"released"|"renewed": n, "rejected": [{"lease":..,"reason":"expired"|"unknown"}]}}.
 */
final class SettleHandler implements HttpHandler {
    private static final Map<Settlement, String> FIELDS = Map.of(Settlement.ACK, "acked", Settlement.NACK, "released",
            Settlement.RENEW, "renewed");

    private final Api api;
    private final Settlement kind;
    private final SettleForwarding forwarder;

    SettleHandler(Api api, Settlement kind, SettleForwarding forwarder) {
        this.api = api;
        this.kind = kind;
        this.forwarder = forwarder;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        Exchanges.requireJson(ex);
        Exchanges.readBody(ex, api.config().server().maxBatchBytes(), (e, body) -> {
            JsonNode req = Json.parse(body);
            AuditNotes.of(e).body(req);
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
            if (leases.size() > api.config().server().maxBatchMessages()) {
                throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "at most " + api.config().server().maxBatchMessages()
                        + " leases per request");
            }
            settle(e, name, sub, req, leases);
        });
    }

    private void settle(HttpServerExchange ex, String name, String sub, JsonNode req, List<String> leases)
            throws Exception {
        Duration duration = switch (kind) {
            case ACK -> Duration.ZERO;
            case NACK -> Duration.ofSeconds(seconds(req, "delay_seconds", 0, 0));
            case RENEW -> Duration.ofSeconds(seconds(req, "visibility_seconds", api.config().queues().visibilitySeconds(), 1));
        };
        StoreContract c = api.store().contract();
        if (kind == Settlement.RENEW && !c.renew()) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "leases cannot be renewed on the " + c.backend()
                    + " backend; lease with the visibility the work needs (at most " + c.maxVisibility().toSeconds() + " s)");
        }
        long longest = Math.min(c.maxVisibility().toSeconds(), api.config().queues().maxVisibilitySeconds());
        if (kind == Settlement.RENEW && duration.toSeconds() > longest) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "visibility_seconds must be at most " + longest
                    + " (queues.max_visibility_seconds), was " + duration.toSeconds());
        }
        if (kind == Settlement.NACK && !duration.isZero() && !c.delayedNack()) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "a nack cannot carry delay_seconds on the " + c.backend()
                    + " backend (Kafka 4.4 has no delayed redelivery); nack without a delay");
        }
        CompletionStage<SettleResult> settled = sub == null ? settleAnywhere(ex, name, req, leases, duration)
                : api.store().settle(name, sub, kind, leases, duration);
        Exchanges.whenDone(ex, settled, (e, r) -> {
            if (!(r instanceof SettleResult.Settled s)) {
                throw ApiException.notFound(name, sub, r);
            }
            ObjectNode out = Json.MAPPER.createObjectNode();
            out.put(FIELDS.get(kind), s.accepted());
            ArrayNode rejected = out.putArray("rejected");
            for (SettleResult.Rejected x : s.rejected()) {
                rejected.addObject().put("lease", x.lease()).put("reason", x.reason().name().toLowerCase(Locale.ROOT));
            }
            Json.send(e, 200, out);
        });
    }

    /**
     * Settles this node's leases here and sends each other node's leases to that node (a cluster's leases
     * belong to the node that issued them); one answer for all of them, in no particular order.
     */
    private CompletionStage<SettleResult> settleAnywhere(HttpServerExchange ex, String name, JsonNode req,
                                                       List<String> leases, Duration duration) {
        Map<String, List<String>> elsewhere = new LinkedHashMap<>();
        List<String> here = new ArrayList<>();
        boolean forwarded = ex.getRequestHeaders().contains(SettleForwarding.HEADER);
        for (String l : leases) {
            Optional<String> owner = forwarded ? Optional.empty() : api.store().leaseOwner(l);
            if (owner.isPresent()) {
                elsewhere.computeIfAbsent(owner.get(), k -> new ArrayList<>()).add(l);
            } else {
                here.add(l);
            }
        }
        CompletionStage<SettleResult> local = api.store().settle(name, kind, here, duration);
        if (elsewhere.isEmpty()) {
            return local;
        }
        ObjectNode rest = req.deepCopy();
        rest.remove("leases");
        String auth = ex.getRequestHeaders().getFirst(io.undertow.util.Headers.AUTHORIZATION);
        List<CompletableFuture<SettleResult.Settled>> remote = new ArrayList<>();
        elsewhere.forEach((url, ls) -> remote.add(forwarder.forward(url, name, kind,
                FIELDS.get(kind), rest, ls, auth)));
        return local.thenCompose(r -> CompletableFuture.allOf(remote.toArray(CompletableFuture[]::new)).thenApply(v -> {
            if (!(r instanceof SettleResult.Settled s)) {
                return r;
            }
            int accepted = s.accepted();
            List<SettleResult.Rejected> rejected = new ArrayList<>(s.rejected());
            for (CompletableFuture<SettleResult.Settled> f : remote) {
                accepted += f.join().accepted();
                rejected.addAll(f.join().rejected());
            }
            return new SettleResult.Settled(accepted, rejected);
        }));
    }

    private static long seconds(JsonNode req, String field, long dflt, long min) {
        JsonNode v = req.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > 43_200) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, field + " must be an integer from " + min + " to 43200, was " + v);
        }
        return v.asLong();
    }
}
