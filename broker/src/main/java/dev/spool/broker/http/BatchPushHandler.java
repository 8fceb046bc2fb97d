package dev.spool.broker.http;

import dev.spool.broker.audit.AuditNotes;
import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code POST /queues/{name}/messages/batch}: a JSON array of {@code {"body","metadata"}} messages, or
 * {@code application/x-ndjson} with one per line. All or nothing: an invalid message fails the batch
 * (400/422 naming its index); a batch that does not fit under the max length is 429 and stores nothing.
 * 201 {@code {"result":"ok","ids":[...],"durability":...}}.
 */
final class BatchPushHandler implements HttpHandler {
    private final Api api;

    BatchPushHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        String type = ex.getRequestHeaders().getFirst(Headers.CONTENT_TYPE);
        String media = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        boolean ndjson = media.equals("application/x-ndjson");
        if (!ndjson) {
            Exchanges.requireJson(ex);
        }
        Exchanges.readBody(ex, api.config().server().maxBatchBytes(), (e, body) -> {
            if (!(api.store().options(name) instanceof QueueOptions options)) {
                throw ApiException.queueNotFound(name);
            }
            String queueType = options.type();
            AuditNotes notes = AuditNotes.of(e).unvalidated(body, queueType != null);
            MessageCodec.Batch batch = ndjson ? ndjson(body, queueType) : MessageCodec.encodeBatch(body, queueType,
                    api.config().server().maxBatchMessages());
            if (!ndjson) {
                // One valid JSON array: the audit line may hold it as JSON. NDJSON stays an escaped string.
                notes.validated(body);
            } else {
                notes.text(body); // valid now, typed or not
            }
            if (batch.messages().isEmpty()) {
                throw new ApiException(ErrorCode.INVALID_MESSAGE, "a batch needs at least one message");
            }
            Exchanges.whenDone(e, api.store().append(name, batch.messages(), batch.keys()),
                    (e2, r) -> respond(e2, name, batch.messages().size(), r));
        });
    }

    private MessageCodec.Batch ndjson(byte[] body, String queueType) {
        List<JsonNode> messages = lines(body);
        if (messages.size() > api.config().server().maxBatchMessages()) {
            throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "a batch holds at most "
                    + api.config().server().maxBatchMessages() + " messages (server.max_batch_messages), got " + messages.size());
        }
        List<byte[]> stored = new ArrayList<>(messages.size());
        List<String> keys = null;
        for (int i = 0; i < messages.size(); i++) {
            try {
                stored.add(MessageCodec.encode(messages.get(i), queueType));
                String k = MessageCodec.idempotencyKey(messages.get(i));
                if (k != null && keys == null) {
                    keys = new ArrayList<>(java.util.Collections.nCopies(messages.size(), (String) null));
                }
                if (k != null) {
                    keys.set(i, k);
                }
            } catch (ApiException a) {
                throw new ApiException(a.code(), "messages[" + i + "]: " + a.getMessage());
            }
        }
        return new MessageCodec.Batch(stored, keys);
    }

    private static List<JsonNode> lines(byte[] body) {
        List<JsonNode> out = new ArrayList<>();
        int i = 0;
        for (String line : new String(body, StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                try {
                    out.add(Json.parse(line.getBytes(StandardCharsets.UTF_8)));
                } catch (ApiException a) {
                    throw new ApiException(a.code(), "messages[" + i + "]: " + a.getMessage());
                }
                i++;
            }
        }
        return out;
    }

    private static void respond(HttpServerExchange ex, String name, int size, PushResult r) {
        if (r instanceof PushResult.Stored s) {
            StringBuilder sb = new StringBuilder(32 + s.count() * 8).append("{\"result\":\"ok\",\"ids\":[");
            for (int i = 0; i < s.count(); i++) {
                sb.append(i == 0 ? "" : ",").append(s.id(i));
            }
            sb.append("],\"durability\":\"").append(s.durability().name().toLowerCase(java.util.Locale.ROOT))
                    .append("\",\"duplicates\":").append(s.duplicates()).append('}');
            Json.send(ex, 201, sb.toString().getBytes(StandardCharsets.US_ASCII));
        } else if (r instanceof PushResult.Full f) {
            throw new ApiException(ErrorCode.QUEUE_FULL, "queue '" + name + "' cannot take " + size
                    + " more messages (" + f.depth() + " of max_length " + f.maxLength() + "); nothing was stored", 1);
        } else {
            throw ApiException.queueNotFound(name);
        }
    }
}
