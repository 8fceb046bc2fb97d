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
    /** Duplicate keys in an object are refused: stored raw, they would mean different things to readers. */
    private static final com.fasterxml.jackson.databind.ObjectMapper STREAMING =
            new com.fasterxml.jackson.databind.ObjectMapper()
                    .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

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

    /** A batch split into stored messages and their idempotency keys (null entries for none). */
    public record Batch(java.util.List<byte[]> messages, java.util.List<String> keys) {
    }

    /**
     * Splits a JSON-array batch without building a tree per message: each element that is exactly
     * {@code {"body": {...}, "metadata": {...}}} (or just {@code body}) is stored as its own bytes; any
     * other element, and every element of a typed queue, goes through {@link #encode(JsonNode, String)}.
     * Errors name the element's index.
     */
    public static Batch encodeBatch(byte[] request, String type, int maxMessages) {
        java.util.List<byte[]> out = new java.util.ArrayList<>();
        java.util.List<String> keys = null;
        // A mapper without FAIL_ON_TRAILING_TOKENS: values are read from the middle of the array.
        try (com.fasterxml.jackson.core.JsonParser p = STREAMING.getFactory().createParser(request)) {
            if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
                throw new ApiException(ErrorCode.INVALID_MESSAGE, "a batch must be a JSON array of messages");
            }
            int i = 0;
            while (p.nextToken() != com.fasterxml.jackson.core.JsonToken.END_ARRAY) {
                if (i >= maxMessages) {
                    throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "a batch holds at most " + maxMessages
                            + " messages (server.max_batch_messages)");
                }
                Encoded e;
                try {
                    e = element(p, request, type);
                } catch (ApiException a) {
                    throw new ApiException(a.code(), "messages[" + i + "]: " + a.getMessage());
                }
                byte[] stored = e.stored();
                String key = keyOf(e.metadata());
                out.add(stored);
                if (key != null) {
                    if (keys == null) {
                        keys = new java.util.ArrayList<>(java.util.Collections.nCopies(out.size() - 1, (String) null));
                    }
                }
                if (keys != null) {
                    keys.add(key);
                }
                i++;
            }
            if (p.nextToken() != null) {
                throw new ApiException(ErrorCode.MALFORMED_JSON, "unexpected content after the batch array");
            }
        } catch (java.io.IOException e) {
            String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new ApiException(ErrorCode.MALFORMED_JSON, "the request body is not valid JSON: " + first);
        }
        return new Batch(out, keys);
    }

    /**
     * One encoded message: the bytes to store, its metadata (for keys) or null, and where the metadata's
     * JSON lies in the request ({@code metadataFrom} -1 if not known) so the audit log can copy it.
     */
    public record Encoded(byte[] stored, JsonNode metadata, int metadataFrom, int metadataTo) {
        Encoded(byte[] stored, JsonNode metadata) {
            this(stored, metadata, -1, -1);
        }
    }

    /**
     * Encodes a single pushed message without building its tree when it is plain
     * ({@code {"body": {...}, "metadata": {...}}}); see {@link #encodeBatch}.
     */
    public static Encoded encodeOne(byte[] request, String type) {
        try (com.fasterxml.jackson.core.JsonParser p = STREAMING.getFactory().createParser(request)) {
            if (p.nextToken() == null) {
                throw new ApiException(ErrorCode.MALFORMED_JSON, "the request body is empty; a JSON object is required");
            }
            Encoded e = element(p, request, type);
            if (p.nextToken() != null) {
                throw new ApiException(ErrorCode.MALFORMED_JSON, "the request body is not valid JSON: unexpected content "
                        + "after the message");
            }
            return e;
        } catch (java.io.IOException e) {
            String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new ApiException(ErrorCode.MALFORMED_JSON, "the request body is not valid JSON: " + first);
        }
    }

    /** Encodes the message the parser is on (its first token read) and leaves the parser on its last token. */
    private static Encoded element(com.fasterxml.jackson.core.JsonParser p, byte[] request, String type)
            throws java.io.IOException {
        int start = (int) p.currentTokenLocation().getByteOffset();
        if (type != null || p.currentToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
            // Typed queues and odd values: the general path, straight from this parser.
            JsonNode tree = p.readValueAsTree();
            return new Encoded(encode(tree, type), tree.path("metadata").isObject() ? tree.get("metadata") : null);
        }
        // Walk the fields: body (object), then optionally metadata (object), nothing else.
        JsonNode metadata = null;
        int metaFrom = -1;
        int metaTo = -1;
        boolean sawBody = false;
        boolean plain = true;
        int field = 0;
        while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
            String name = p.currentName();
            com.fasterxml.jackson.core.JsonToken v = p.nextToken();
            if (field == 0 && name.equals("body") && v == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                p.skipChildren();
                sawBody = true;
            } else if (field == 1 && name.equals("metadata") && v == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                metaFrom = (int) p.currentTokenLocation().getByteOffset();
                metadata = p.readValueAsTree();
                metaTo = (int) p.currentLocation().getByteOffset();
            } else {
                plain = false;
                p.skipChildren();
                while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                    p.nextToken();
                    p.skipChildren();
                }
                break;
            }
            field++;
        }
        // The parser is now on the message's END_OBJECT.
        int end = (int) p.currentLocation().getByteOffset();
        if (!plain || !sawBody) {
            JsonNode tree = Json.parse(java.util.Arrays.copyOfRange(request, start, end));
            return new Encoded(encode(tree, null), tree.path("metadata").isObject() ? tree.get("metadata") : null);
        }
        if (metadata != null) {
            return new Encoded(java.util.Arrays.copyOfRange(request, start, end), metadata, metaFrom, metaTo);
        }
        // Same shape as encode(): metadata {} when absent.
        byte[] tail = METADATA_TAIL;
        byte[] stored = new byte[end - 1 - start + tail.length];
        System.arraycopy(request, start, stored, 0, end - 1 - start);
        System.arraycopy(tail, 0, stored, end - 1 - start, tail.length);
        return new Encoded(stored, null);
    }

    private static final byte[] METADATA_TAIL = ",\"metadata\":{}}".getBytes(StandardCharsets.US_ASCII);

    /** The message's {@code metadata.idempotency_key}, or null. */
    public static String idempotencyKey(JsonNode message) {
        return keyOf(message.path("metadata"));
    }

    private static String keyOf(JsonNode metadata) {
        JsonNode k = metadata == null ? null : metadata.get("idempotency_key");
        if (k == null || k.isNull() || k.isMissingNode()) {
            return null;
        }
        if (!k.isTextual() || k.asText().isEmpty() || k.asText().length() > 256) {
            throw new ApiException(ErrorCode.INVALID_MESSAGE, "metadata.idempotency_key must be a string of 1 to 256 characters");
        }
        return k.asText();
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
