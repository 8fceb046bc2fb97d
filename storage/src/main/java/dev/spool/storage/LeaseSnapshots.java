package dev.spool.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A queue's lease snapshot, {@code leases.json}, written with each checkpoint so that recovery replays
 * only the state-log entries written since. Layout (version 1):
 * {@code {"version":1,"state_index":long,"floor":long,"done":[id,...],"deliveries":{"id":n,...},
 * "keys":{"key":[id,time ms],...}}}.
 */
final class LeaseSnapshots {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseSnapshots.class);
    static final String FILE = "leases.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private LeaseSnapshots() {
    }

    static void write(Path dir, Journal.LeaseSnapshot s) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("version", 1);
        n.put("state_index", s.stateIndex());
        n.put("floor", s.floor());
        var done = n.putArray("done");
        s.done().forEach(done::add);
        ObjectNode d = n.putObject("deliveries");
        s.deliveries().forEach((id, c) -> d.put(Long.toString(id), c));
        ObjectNode k = n.putObject("keys");
        s.keys().forEach((key, v) -> k.putArray(key).add(v[0]).add(v[1]));
        AtomicFile.write(dir.resolve(FILE), JSON.writeValueAsBytes(n));
    }

    /** The snapshot, or null if there is none (or it is damaged: then the whole state log is replayed). */
    static Journal.LeaseSnapshot read(Path dir, String queue) {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(f.toFile());
            if (n.path("version").asInt() != 1) {
                throw new IOException("unsupported version " + n.path("version"));
            }
            List<Long> done = new ArrayList<>();
            n.path("done").forEach(v -> done.add(v.asLong()));
            Map<Long, Integer> deliveries = new HashMap<>();
            n.path("deliveries").properties().forEach(e -> deliveries.put(Long.parseLong(e.getKey()),
                    e.getValue().asInt()));
            Map<String, long[]> keys = new java.util.LinkedHashMap<>();
            n.path("keys").properties().forEach(e -> keys.put(e.getKey(),
                    new long[] {e.getValue().path(0).asLong(), e.getValue().path(1).asLong()}));
            return new Journal.LeaseSnapshot(n.path("state_index").asLong(-1), n.path("floor").asLong(), done,
                    deliveries, keys);
        } catch (IOException | RuntimeException e) {
            LOG.error("queue '{}': lease snapshot {} is damaged ({}); replaying the whole state log", queue, f,
                    e.toString());
            return null;
        }
    }
}
