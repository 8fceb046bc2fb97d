package dev.spool.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.broker.audit.AuditNotes;
import dev.spool.storage.DeleteResult;
import dev.spool.storage.NoSuchQueue;
import dev.spool.storage.NoSuchSubscription;
import dev.spool.storage.QueueStore;
import dev.spool.storage.RedriveResult;
import dev.spool.storage.SubscriptionResult;
import dev.spool.storage.SubscriptionSpec;
import dev.spool.storage.SubscriptionStart;
import dev.spool.storage.SubscriptionStats;
import io.undertow.server.HttpServerExchange;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A queue's named subscriptions (issue 22), all on workers (creating, seeking and deleting sync files):
 * <ul>
 *   <li>{@code POST /queues/{name}/subscriptions/{sub}} with an optional {@code {"start": "earliest"|"latest"}},
 *       {@code {"id": N}} or {@code {"from_time": RFC 3339}} (default: latest), and optional {@code max_deliveries},
 *       {@code dead_letter_queue}, {@code paused}: 201 and the subscription;</li>
 *   <li>{@code GET /queues/{name}/subscriptions}: {@code {"subscriptions": [...]}}; {@code GET .../{sub}}: one;</li>
 *   <li>{@code POST .../{sub}/seek} with one start as above: 200 and the subscription, re-delivering from there;</li>
 *   <li>{@code POST .../{sub}/pause} and {@code .../resume}: 200 and the subscription;</li>
 *   <li>{@code DELETE .../{sub}}: 200 {@code {"result":"ok"}};</li>
 *   <li>{@code POST .../{sub}/redrive}: its dead letters back to it alone, 200 {@code {"result":"ok","moved":n}}.</li>
 * </ul>
 */
final class SubscriptionsHandler {
    private static final Set<String> CREATE_FIELDS = Set.of("start", "id", "from_time", "max_deliveries",
            "dead_letter_queue", "paused");
    private static final Set<String> SEEK_FIELDS = Set.of("start", "id", "from_time");
    private final Api api;

    SubscriptionsHandler(Api api) {
        this.api = api;
    }

    void create(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        withBody(ex, (e, req) -> {
            checkFields(req, CREATE_FIELDS);
            SubscriptionStart start = start(req, true);
            Integer maxDeliveries = null;
            JsonNode d = req == null ? null : req.get("max_deliveries");
            if (d != null && !d.isNull()) {
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0 || d.asLong() > 1000) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "max_deliveries must be an integer from 0 to "
                            + "1000, was " + d);
                }
                maxDeliveries = d.asInt();
                String refused = api.store().contract().refuseMaxDeliveries(maxDeliveries);
                if (refused != null) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, refused);
                }
            }
            String dlq = null;
            JsonNode q = req == null ? null : req.get("dead_letter_queue");
            if (q != null && !q.isNull()) {
                if (!q.isTextual() || !QueueStore.isValidName(q.asText()) || q.asText().equals(name)) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "dead_letter_queue must be another valid queue "
                            + "name, was " + q);
                }
                dlq = q.asText();
            } else if (!QueueStore.isValidName(SubscriptionSpec.defaultDeadLetterQueue(name, sub))) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "the default dead-letter queue '"
                        + SubscriptionSpec.defaultDeadLetterQueue(name, sub) + "' is not a valid queue name (too long);"
                        + " give dead_letter_queue");
            }
            boolean paused = false;
            JsonNode p = req == null ? null : req.get("paused");
            if (p != null && !p.isNull()) {
                if (!p.isBoolean()) {
                    throw new ApiException(ErrorCode.INVALID_REQUEST, "paused must be true or false, was " + p);
                }
                paused = p.asBoolean();
            }
            SubscriptionResult r = api.store().createSubscription(name, sub,
                    new SubscriptionSpec(start, maxDeliveries, dlq, paused));
            if (r instanceof SubscriptionResult.Exists) {
                throw new ApiException(ErrorCode.SUBSCRIPTION_EXISTS, "queue '" + name + "' has a subscription '" + sub
                        + "' already");
            }
            Json.send(e, 201, render(expect(name, sub, r)));
        });
    }

    void list(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        SubscriptionResult r = api.store().subscription(name, null);
        if (!(r instanceof SubscriptionResult.Listed l)) {
            throw ApiException.queueNotFound(name);
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode all = out.putArray("subscriptions");
        for (SubscriptionStats s : l.subscriptions()) {
            all.add(render(s));
        }
        Json.send(ex, 200, out);
    }

    void show(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        Json.send(ex, 200, render(expect(name, sub, api.store().subscription(name, sub))));
    }

    void seek(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        withBody(ex, (e, req) -> {
            checkFields(req, SEEK_FIELDS);
            Json.send(e, 200, render(expect(name, sub, api.store().seek(name, sub, start(req, false)))));
        });
    }

    void pause(HttpServerExchange ex) {
        pause(ex, true);
    }

    void resume(HttpServerExchange ex) {
        pause(ex, false);
    }

    private void pause(HttpServerExchange ex, boolean paused) {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        Json.send(ex, 200, render(expect(name, sub, api.store().pause(name, sub, paused))));
    }

    void delete(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        DeleteResult r = api.store().deleteSubscription(name, sub);
        if (!(r instanceof DeleteResult.Deleted)) {
            throw ApiException.notFound(name, sub, r);
        }
        Json.send(ex, 200, Map.of("result", "ok"));
    }

    void redrive(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        RedriveResult r = api.store().redrive(name, sub);
        if (!(r instanceof RedriveResult.Moved moved)) {
            throw ApiException.notFound(name, sub, r);
        }
        Json.send(ex, 200, Map.of("result", "ok", "moved", moved.count()));
    }

    /** The subscription an answer names, or the problem it stands for. */
    private static SubscriptionStats expect(String name, String sub, SubscriptionResult r) {
        if (r instanceof SubscriptionStats s) {
            return s;
        }
        if (r instanceof SubscriptionResult.BadStart b) {
            throw new ApiException(ErrorCode.BAD_START, b.why());
        }
        if (r instanceof NoSuchSubscription || r instanceof NoSuchQueue) {
            throw ApiException.notFound(name, sub, r);
        }
        throw new IllegalStateException("unexpected answer " + r);
    }

    private ObjectNode render(SubscriptionStats s) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("queue", s.queue());
        out.put("name", s.name());
        out.put("position", s.position());
        out.put("backlog", s.backlog());
        out.put("in_flight", s.inFlight());
        out.put("oldest_age_seconds", s.oldestAgeMillis() / 1000.0);
        out.put("skipped", s.skipped());
        out.put("paused", s.paused());
        out.put("created_at", s.createdAt().toString());
        out.put("max_deliveries", s.maxDeliveries());
        out.put("dead_letter_queue", s.deadLetterQueue());
        out.put("waiting_requests", api.waiters().waiting(QueueStore.availabilityKey(s.queue(), s.name())));
        return out;
    }

    /**
     * The start a body names: exactly one of {@code start}, {@code id} and {@code from_time} ({@code optional}: none
     * means latest).
     */
    static SubscriptionStart start(JsonNode req, boolean optional) {
        JsonNode start = req == null ? null : req.get("start");
        JsonNode id = req == null ? null : req.get("id");
        JsonNode time = req == null ? null : req.get("from_time");
        int given = (present(start) ? 1 : 0) + (present(id) ? 1 : 0) + (present(time) ? 1 : 0);
        if (given == 0 && optional) {
            return new SubscriptionStart.Latest();
        }
        if (given != 1) {
            throw new ApiException(ErrorCode.BAD_START, "give exactly one of \"start\" (\"earliest\" or \"latest\"), "
                    + "\"id\" (a message id) and \"from_time\" (RFC 3339)");
        }
        if (present(start)) {
            return switch (start.isTextual() ? start.asText() : "") {
                case "earliest" -> new SubscriptionStart.Earliest();
                case "latest" -> new SubscriptionStart.Latest();
                default -> throw new ApiException(ErrorCode.BAD_START, "start must be \"earliest\" or \"latest\", was "
                        + start);
            };
        }
        if (present(id)) {
            if (!id.isIntegralNumber() || !id.canConvertToLong() || id.asLong() < 1) {
                throw new ApiException(ErrorCode.BAD_START, "id must be a message id (an integer from 1), was " + id);
            }
            return new SubscriptionStart.AtId(id.asLong());
        }
        try {
            if (!time.isTextual()) {
                throw new DateTimeParseException("not a string", time.toString(), 0);
            }
            return new SubscriptionStart.FromTime(OffsetDateTime.parse(time.asText()).toInstant());
        } catch (DateTimeParseException e) {
            throw new ApiException(ErrorCode.BAD_START, "from_time must be an RFC 3339 time such as "
                    + "\"2026-12-07T10:00:00Z\", was " + time);
        }
    }

    private static boolean present(JsonNode n) {
        return n != null && !n.isNull();
    }

    private static void checkFields(JsonNode req, Set<String> allowed) {
        if (req == null) {
            return;
        }
        if (!req.isObject()) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "body must be a JSON object such as {\"start\": \"earliest\"}");
        }
        req.fieldNames().forEachRemaining(f -> {
            if (!allowed.contains(f)) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "unknown field '" + f + "'; allowed: "
                        + List.copyOf(new java.util.TreeSet<>(allowed)));
            }
        });
    }

    /** Runs {@code then} with the request's JSON body, or null when it has none. */
    private void withBody(HttpServerExchange ex, BodyThen then) {
        if (!Exchanges.hasBody(ex)) {
            then.run(ex, null);
            return;
        }
        Exchanges.requireJson(ex);
        Exchanges.readBody(ex, 64 * 1024, (e, body) -> {
            JsonNode req = Json.parse(body);
            AuditNotes.of(e).body(req);
            then.run(e, req.isNull() ? null : req);
        });
    }

    @FunctionalInterface
    private interface BodyThen {
        void run(HttpServerExchange ex, JsonNode req);
    }
}
