package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.AtomicFile;
import dev.spool.storage.QueueOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A queue's metadata, kept in {@code queue.json} in the queue's folder (written once, at creation) and
 * repeated in the checkpoint.
 *
 * <p>Layout (version 1): {@code {"version":1,"name":str,"max_length":int,"type":str|null,"created_at":ISO-8601,
 * "max_deliveries":int,"dead_letter_queue":str|null,"retention_max_age_seconds":int,"retention_max_bytes":int}}
 * (the last four optional, 0, null, 0 and 0 when absent).
 */
record QueueMeta(String name, QueueOptions options, Instant createdAt) {
    static final String FILE = "queue.json";
    static final int VERSION = 1;

    ObjectNode toJson(ObjectMapper json) {
        ObjectNode n = json.createObjectNode();
        n.put("version", VERSION);
        n.put("name", name);
        n.put("max_length", options.maxLength());
        n.put("type", options.type());
        n.put("created_at", createdAt.toString());
        n.put("max_deliveries", options.maxDeliveries());
        n.put("dead_letter_queue", options.deadLetterQueue());
        if (options.retentionMaxAgeSeconds() > 0 || options.retentionMaxBytes() > 0) {
            n.put("retention_max_age_seconds", options.retentionMaxAgeSeconds());
            n.put("retention_max_bytes", options.retentionMaxBytes());
        }
        return n;
    }

    static QueueMeta fromJson(JsonNode n) {
        int version = n.path("version").asInt(-1);
        if (version != VERSION) {
            throw new IllegalArgumentException("unsupported queue metadata version " + n.path("version"));
        }
        String name = required(n, "name").asText();
        long maxLength = required(n, "max_length").asLong();
        JsonNode type = n.path("type");
        Instant created = Instant.parse(required(n, "created_at").asText());
        JsonNode dlq = n.path("dead_letter_queue");
        return new QueueMeta(name, new QueueOptions(maxLength, type.isTextual() ? type.asText() : null,
                n.path("max_deliveries").asInt(0), dlq.isTextual() ? dlq.asText() : null,
                n.path("retention_max_age_seconds").asLong(0), n.path("retention_max_bytes").asLong(0)), created);
    }

    static JsonNode required(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("missing field '" + field + "'");
        }
        return v;
    }

    void write(ObjectMapper json, Path dir) throws IOException {
        AtomicFile.write(dir.resolve(FILE), json.writeValueAsBytes(toJson(json)));
    }

    static QueueMeta read(ObjectMapper json, Path dir) throws IOException {
        return fromJson(json.readTree(dir.resolve(FILE).toFile()));
    }
}
