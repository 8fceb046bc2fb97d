package dev.spool.broker.http;

import dev.spool.broker.audit.AuditNotes;
import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.storage.CreateResult;
import dev.spool.storage.QueueOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.util.Map;
import java.util.Set;

/**
 * {@code POST /queues/{name}} with an optional {@code {"type": ..., "max_length": ..., "max_deliveries": ...,
 * "dead_letter_queue": ..., "retention": {"max_age": ..., "max_bytes": ...}}}. Runs on a worker.
 */
final class CreateQueueHandler implements HttpHandler {
    private static final Set<String> FIELDS = Set.of("type", "max_length", "max_deliveries", "dead_letter_queue",
            "retention");
    private final Api api;

    CreateQueueHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        if (!Exchanges.hasBody(ex)) {
            create(ex, name, null);
            return;
        }
        Exchanges.requireJson(ex);
        Exchanges.readBody(ex, api.maxMessageBytes(), (e, body) -> {
            JsonNode req = Json.parse(body);
            AuditNotes.of(e).body(req);
            create(e, name, req);
        });
    }

    private void create(HttpServerExchange ex, String name, JsonNode req) {
        String type = null;
        long maxLength = api.config().queueManager().defaultMaxLength();
        int maxDeliveries = api.config().queues().maxDeliveries();
        String dlq = null;
        long retentionAge = 0;
        long retentionBytes = 0;
        if (req != null && !req.isNull()) {
            if (!req.isObject()) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "body must be an object such as {\"type\": \"transaction\"}");
            }
            req.fieldNames().forEachRemaining(f -> {
                if (!FIELDS.contains(f)) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "unknown field '" + f + "'; allowed: " + FIELDS);
                }
            });
            JsonNode t = req.get("type");
            if (t != null && !t.isNull()) {
                if (!t.isTextual() || !MessageSchema.isKnown(t.asText())) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "type must be \"transaction\" or \"result\", was " + t);
                }
                type = t.asText().toLowerCase(java.util.Locale.ROOT);
            }
            JsonNode m = req.get("max_length");
            if (m != null && !m.isNull()) {
                if (!m.canConvertToLong() || !m.isIntegralNumber() || m.asLong() <= 0) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "max_length must be a positive integer, was " + m);
                }
                maxLength = m.asLong();
            }
            JsonNode d = req.get("max_deliveries");
            if (d != null && !d.isNull()) {
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0 || d.asLong() > 1000) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "max_deliveries must be an integer from 0 to 1000, was " + d);
                }
                maxDeliveries = d.asInt();
            }
            JsonNode q = req.get("dead_letter_queue");
            if (q != null && !q.isNull()) {
                if (!q.isTextual() || !dev.spool.storage.QueueStore.isValidName(q.asText()) || q.asText().equals(name)) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "dead_letter_queue must be another valid queue name, was " + q);
                }
                dlq = q.asText();
            }
            JsonNode r = req.get("retention");
            if (r != null && !r.isNull()) {
                if (!r.isObject()) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "retention must be an object such as "
                            + "{\"max_age\": \"7d\", \"max_bytes\": \"10GiB\"}, was " + r);
                }
                r.fieldNames().forEachRemaining(f -> {
                    if (!f.equals("max_age") && !f.equals("max_bytes")) {
                        throw new ApiException(ErrorCode.INVALID_REQUEST, "unknown field 'retention." + f
                                + "'; allowed: [max_age, max_bytes]");
                    }
                });
                retentionAge = unit(r.get("max_age"), "retention.max_age", true);
                retentionBytes = unit(r.get("max_bytes"), "retention.max_bytes", false);
                if ((retentionAge > 0 || retentionBytes > 0) && api.store().contract().backend().equals("kafka")) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "retention bounds named subscriptions, which "
                            + "the kafka backend does not offer in this release");
                }
            }
        }
        String refused = api.store().contract().refuseMaxDeliveries(maxDeliveries);
        if (refused != null) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, refused);
        }
        CreateResult r = api.store().create(name, new QueueOptions(maxLength, type, maxDeliveries, dlq, retentionAge,
                retentionBytes));
        if (r == CreateResult.EXISTS) {
            throw new ApiException(ErrorCode.QUEUE_EXISTS, "queue '" + name + "' exists already");
        }
        Json.send(ex, 201, Map.of("result", "ok"));
    }

    /** A duration in seconds or a size in bytes, as a number or a string with a unit ("7d", "10GiB"). */
    private static long unit(JsonNode v, String field, boolean duration) {
        if (v == null || v.isNull()) {
            return 0;
        }
        Object value = v.isIntegralNumber() && v.canConvertToLong() ? (Object) v.asLong() : v.isTextual() ? v.asText()
                : v.toString();
        try {
            return duration ? dev.spool.broker.config.Units.seconds(value) : dev.spool.broker.config.Units.bytes(value);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, field + " must be " + (e instanceof ArithmeticException
                    ? "smaller" : e.getMessage()) + ", was " + v);
        }
    }
}
