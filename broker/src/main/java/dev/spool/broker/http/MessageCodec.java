package dev.spool.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;

/**
 * How a message is stored and shown. A push {@code {"body": {...}, "metadata": {...}}} is checked (and,
 * on a typed queue, validated against its model) and stored as the compact JSON
 * {@code {"body":...,"metadata":...}} (metadata {@code {}} when absent); a pull shows it with its id
 * spliced in front, without parsing it again.
 */
public final class MessageCodec {
    private MessageCodec() {
    }

    /**
     * The bytes to store for a pushed message.
     *
     * @param type the queue's type tag ({@code transaction}, {@code result}) or null
     * @throws ApiException INVALID_MESSAGE or SCHEMA_VIOLATION
     */
    public static byte[] encode(JsonNode req, String type) {
        if (!req.isObject()) {
            throw new ApiException(ErrorCode.INVALID_MESSAGE, "the request body must be a JSON object with an object 'body'");
        }
        JsonNode body = req.get("body");
        if (body == null || !body.isObject()) {
            throw new ApiException(ErrorCode.INVALID_MESSAGE, "field 'body' is required and must be an object");
        }
        JsonNode metadata = req.get("metadata");
        if (metadata != null && !metadata.isNull() && !metadata.isObject()) {
            throw new ApiException(ErrorCode.INVALID_MESSAGE, "field 'metadata' must be an object");
        }
        if (type != null) {
            MessageSchema.of(type).validate(body);
        }
        ObjectNode stored = Json.MAPPER.createObjectNode();
        stored.set("body", body);
        stored.set("metadata", metadata == null || metadata.isNull() ? Json.MAPPER.createObjectNode() : metadata);
        return Json.bytes(stored);
    }

    /** Parses a request body and encodes it (see {@link #encode(JsonNode, String)}). */
    public static byte[] encode(byte[] request, String type) {
        return encode(Json.parse(request), type);
    }

    /**
     * A message on its way to a dead-letter queue: its metadata gains {@code deliveries},
     * {@code dead_letter_from} and {@code original_id}.
     */
    public static byte[] deadLetter(byte[] stored, String fromQueue, long id, int deliveries) {
        try {
            JsonNode n = Json.MAPPER.readTree(stored);
            ObjectNode meta = n.path("metadata").isObject() ? (ObjectNode) n.get("metadata") : Json.MAPPER.createObjectNode();
            meta.put("deliveries", deliveries);
            meta.put("dead_letter_from", fromQueue);
            meta.put("original_id", id);
            ((ObjectNode) n).set("metadata", meta);
            return Json.bytes(n);
        } catch (java.io.IOException | RuntimeException e) {
            return stored;
        }
    }

    /** The JSON a pull returns: {@code {"id":N,"body":...,"metadata":...}}. */
    public static byte[] render(long id, byte[] stored) {
        byte[] prefix = ("{\"id\":" + id + ",").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[prefix.length + stored.length - 1];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        System.arraycopy(stored, 1, out, prefix.length, stored.length - 1);
        return out;
    }
}
