package dev.spool.broker.http;

import dev.spool.broker.audit.AuditNotes;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.nio.charset.StandardCharsets;

/**
 * {@code POST /queues/{name}/messages}: validates {@code {"body": {...}, "metadata": {...}}} and appends
 * it. Parsing and the append (a memory write) run on the IO thread; with an fsync policy the answer
 * waits for the group commit without holding a thread.
 */
final class PushHandler implements HttpHandler {
    private final Api api;

    PushHandler(Api api) {
        this.api = api;
    }

    private static final io.undertow.util.HttpString IDEMPOTENCY_KEY = new io.undertow.util.HttpString("Idempotency-Key");

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        if (!Exchanges.hasBody(ex)) {
            throw new ApiException(ErrorCode.INVALID_MESSAGE, "a JSON body {\"body\": {...}, \"metadata\": {...}} is required");
        }
        Exchanges.requireJson(ex);
        String key = ex.getRequestHeaders().getFirst(IDEMPOTENCY_KEY);
        if (key != null && (key.isEmpty() || key.length() > 256)) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "Idempotency-Key must be 1 to 256 characters");
        }
        Exchanges.readBody(ex, api.maxMessageBytes(), (e, body) -> {
            String type = typeOf(name);
            AuditNotes notes = AuditNotes.of(e).unvalidated(body, type != null);
            MessageCodec.Encoded encoded = MessageCodec.encodeOne(body, type);
            // Valid JSON now: the audit line may hold it as JSON (until here, only as an escaped string).
            notes.validated(body);
            if (encoded.metadataFrom() >= 0) {
                notes.metadata(new dev.spool.broker.audit.AuditEvent.RawJson(
                        java.util.Arrays.copyOfRange(body, encoded.metadataFrom(), encoded.metadataTo())));
            } else if (encoded.metadata() != null) {
                notes.metadata(encoded.metadata());
            }
            Exchanges.whenDone(e, api.store().append(name, java.util.List.of(encoded.stored()),
                    key == null ? null : java.util.List.of(key)), (e2, r) -> respond(e2, name, r));
        });
    }

    private String typeOf(String name) {
        if (api.store().options(name) instanceof QueueOptions o) {
            return o.type();
        }
        throw ApiException.queueNotFound(name);
    }

    private static void respond(HttpServerExchange ex, String name, PushResult r) {
        if (r instanceof PushResult.Stored s) {
            Json.send(ex, 201, ("{\"result\":\"ok\",\"id\":" + s.id(0) + ",\"durability\":\""
                    + s.durability().name().toLowerCase(java.util.Locale.ROOT) + "\""
                    + (s.duplicates() > 0 ? ",\"duplicate\":true}" : "}"))
                    .getBytes(StandardCharsets.US_ASCII));
        } else if (r instanceof PushResult.Full f) {
            throw new ApiException(ErrorCode.QUEUE_FULL, "queue '" + name + "' is full (" + f.depth()
                    + " of max_length " + f.maxLength() + "); nothing was stored", 1);
        } else {
            throw ApiException.queueNotFound(name);
        }
    }
}
