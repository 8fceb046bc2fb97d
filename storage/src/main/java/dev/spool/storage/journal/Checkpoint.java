package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.AtomicFile;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The checkpoint: every queue's metadata and cursor, replaced atomically (see {@link AtomicFile}).
 * It holds no messages, so writing and reading it costs the same whatever the backlog.
 *
 * <p>Layout (version 1), JSON:
 * <pre>{"format":"spool-checkpoint","version":1,"written_at":ISO-8601,
 *  "queues":[{"version":1,"name":..,"max_length":..,"type":..,"created_at":..,
 *             "cursor":{"index":long,"id":long}}, ...],
 *  "crc32c": crc of the UTF-8 text of the "queues" array as written}</pre>
 */
final class Checkpoint {
    static final String FORMAT = "spool-checkpoint";
    static final int VERSION = 1;

    /** One queue as the checkpoint saw it. */
    record Entry(QueueMeta meta, Cursor.Position cursor) {
    }

    private Checkpoint() {
    }

    static void write(ObjectMapper json, Path file, Collection<Entry> entries, Instant now) throws IOException {
        ArrayNode queues = json.createArrayNode();
        for (Entry e : entries) {
            ObjectNode q = e.meta().toJson(json);
            ObjectNode c = q.putObject("cursor");
            c.put("index", e.cursor().index());
            c.put("id", e.cursor().id());
            queues.add(q);
        }
        ObjectNode root = json.createObjectNode();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("written_at", now.toString());
        root.set("queues", queues);
        root.put("crc32c", crc(json, queues));
        AtomicFile.write(file, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }

    /**
     * Reads the checkpoint.
     *
     * @return the entries by queue name; empty if there is no checkpoint file
     * @throws CorruptCheckpointException if the file exists but cannot be trusted
     */
    static Map<String, Entry> read(ObjectMapper json, Path file) throws IOException, CorruptCheckpointException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Map.of();
        }
        JsonNode root;
        try {
            root = json.readTree(bytes);
        } catch (IOException e) {
            throw new CorruptCheckpointException("not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText())) {
            throw new CorruptCheckpointException("not a Spool checkpoint (format field missing)");
        }
        if (root.path("version").asInt(-1) != VERSION) {
            throw new CorruptCheckpointException("unsupported version " + root.path("version"));
        }
        JsonNode queues = root.get("queues");
        if (queues == null || !queues.isArray()) {
            throw new CorruptCheckpointException("queues array missing");
        }
        if (!root.path("crc32c").canConvertToLong() || root.path("crc32c").asLong() != crc(json, queues)) {
            throw new CorruptCheckpointException("checksum mismatch");
        }
        Map<String, Entry> out = new LinkedHashMap<>();
        try {
            for (JsonNode q : queues) {
                JsonNode c = QueueMeta.required(q, "cursor");
                out.put(q.path("name").asText(), new Entry(QueueMeta.fromJson(q),
                        new Cursor.Position(QueueMeta.required(c, "index").asLong(),
                                QueueMeta.required(c, "id").asLong())));
            }
        } catch (RuntimeException e) {
            throw new CorruptCheckpointException("bad queue entry (" + e.getMessage() + ")");
        }
        return out;
    }

    private static long crc(ObjectMapper json, JsonNode queues) throws IOException {
        CRC32C crc = new CRC32C();
        crc.update(json.writeValueAsString(queues).getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }

    /** The checkpoint file exists but is damaged. */
    static final class CorruptCheckpointException extends Exception {
        private static final long serialVersionUID = 1L;

        CorruptCheckpointException(String message) {
            super(message);
        }
    }

    /**
     * Takes a checkpoint of the open queues: a lease snapshot of each whose state log changed since its last (all
     * of them, or with {@code allSnapshots} false only those that grew enough to pay off), then the checkpoint file.
     * A queue whose snapshot cannot be synced stops taking changes (what its log holds is unknown, and retrying
     * proves nothing).
     */
    static void take(ObjectMapper json, StoreConfig config, Collection<OpenQueue> queues, boolean allSnapshots) {
        long start = System.nanoTime();
        config.syncDelay().beforeSync();
        List<Entry> entries = new ArrayList<>();
        for (OpenQueue o : queues) {
            entries.add(new Entry(o.queue().meta, o.queue().cursorPosition()));
        }
        entries.sort(Comparator.comparing(e -> e.meta().name()));
        try {
            for (OpenQueue o : queues) {
                Queue.Snapshot s = o.queue().beginSnapshot(allSnapshots);
                if (s != null) {
                    try {
                        o.queue().finishSnapshot(s);
                    } catch (IOException | RuntimeException | InternalError e) {
                        o.queue().fail("a sync of its state log's snapshot failed", e, false);
                    }
                }
                for (Queue.Named n : o.queue().subscriptions()) {
                    Queue.Snapshot ss = n.reader.beginOwnSnapshot(allSnapshots);
                    if (ss != null) {
                        try {
                            n.reader.log().writeSnapshot(ss.begin(), ss.state());
                        } catch (IOException | RuntimeException | InternalError e) {
                            o.queue().fail("subscription '" + n.meta.name() + "': a sync of its state log's snapshot "
                                    + "failed", e, false);
                        }
                    }
                }
            }
            Faults.at(Faults.Point.CHECKPOINT);
            write(json, config.checkpointFile(), entries, config.clock().instant());
            config.observer().checkpointed(System.nanoTime() - start);
        } catch (IOException | RuntimeException | InternalError e) {
            throw StoreException.of("writing checkpoint " + config.checkpointFile(), e, config.directory());
        }
    }
}
