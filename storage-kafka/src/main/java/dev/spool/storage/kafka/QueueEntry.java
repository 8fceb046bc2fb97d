package dev.spool.storage.kafka;

import dev.spool.storage.QueueOptions;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * One record of the catalog topic: a queue's name, its topic and options, and the step of its life.
 *
 * @param op         CLAIM (a node asks for the name), READY (its topics exist), DELETE (gone)
 * @param uuid       new for each creation: a re-created queue gets a new topic
 * @param deadLetter the queue was created as a dead-letter target (its topic can receive the broker's DLQ writes)
 */
record QueueEntry(Op op, String name, String uuid, QueueOptions options, Instant createdAt, boolean deadLetter,
                  String claimedBy) {

    enum Op { CLAIM, READY, DELETE }

    /** The queue's topic; dead-letter targets carry the broker's required {@code dlq.} prefix. */
    String topic() {
        return (deadLetter ? "dlq.spool.q." : "spool.q.") + uuid;
    }

    /** The share group that consumes the topic. */
    String group() {
        return "spool.q." + uuid;
    }

    QueueEntry as(Op next) {
        return new QueueEntry(next, name, uuid, options, createdAt, deadLetter, claimedBy);
    }

    byte[] encode() {
        Map<String, String> m = new HashMap<>();
        m.put("op", op.name());
        m.put("uuid", uuid);
        m.put("max_length", Long.toString(options.maxLength()));
        if (options.type() != null) {
            m.put("type", options.type());
        }
        m.put("max_deliveries", Integer.toString(options.maxDeliveries()));
        if (options.deadLetterQueue() != null) {
            m.put("dead_letter_queue", options.deadLetterQueue());
        }
        m.put("created_at", createdAt.toString());
        m.put("dead_letter", Boolean.toString(deadLetter));
        m.put("claimed_by", claimedBy);
        StringBuilder sb = new StringBuilder();
        m.forEach((k, v) -> sb.append(k).append('=').append(URLEncoder.encode(v, StandardCharsets.UTF_8)).append('\n'));
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    static QueueEntry decode(String name, byte[] value) {
        Map<String, String> m = new HashMap<>();
        for (String line : new String(value, StandardCharsets.UTF_8).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), URLDecoder.decode(line.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        QueueOptions o = new QueueOptions(Long.parseLong(m.get("max_length")), m.get("type"),
                Integer.parseInt(m.get("max_deliveries")), m.get("dead_letter_queue"));
        return new QueueEntry(Op.valueOf(m.get("op")), name, m.get("uuid"), o, Instant.parse(m.get("created_at")),
                Boolean.parseBoolean(m.get("dead_letter")), m.getOrDefault("claimed_by", ""));
    }
}
