package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.AtomicFile;
import dev.spool.storage.StoreConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A named subscription's files, in {@code queues/<queue>/subs/<name>/}: {@code subscription.json} (its settings,
 * {@link Meta}), {@code cursor.dat} (its durable position, a {@link Cursor} whose read slots alone are used) and
 * {@code state/} (its own {@link StateLog}: acknowledgements and delivery counts; keys and gaps stay in the queue's).
 * Created under a temporary name and renamed into place, deleted by renaming it away first, as queue folders are,
 * so a crash never leaves half a subscription.
 */
final class Subscription {
    private static final Logger LOG = LoggerFactory.getLogger(Subscription.class);
    static final String DIR = "subs";
    static final String FILE = "subscription.json";
    private static final String CREATING = ".creating-";
    private static final String DELETING = ".deleting-";
    private static final AtomicLong TEMP = new AtomicLong();

    private Subscription() {
    }

    /**
     * A subscription's settings (version 1): {@code {"version":1,"name":str,"max_deliveries":int,
     * "dead_letter_queue":str,"paused":bool,"created_at":ISO-8601,"skipped":int}}, rewritten whole (a temporary
     * file renamed into place) when it is paused or resumed, or skips messages the retention bounds let go.
     */
    record Meta(String name, int maxDeliveries, String deadLetterQueue, boolean paused, Instant createdAt,
                long skipped) {
        Meta withPaused(boolean p) {
            return new Meta(name, maxDeliveries, deadLetterQueue, p, createdAt, skipped);
        }

        Meta withSkipped(long more) {
            return new Meta(name, maxDeliveries, deadLetterQueue, paused, createdAt, skipped + more);
        }

        void write(ObjectMapper json, Path dir) throws IOException {
            ObjectNode n = json.createObjectNode();
            n.put("version", 1);
            n.put("name", name);
            n.put("max_deliveries", maxDeliveries);
            n.put("dead_letter_queue", deadLetterQueue);
            n.put("paused", paused);
            n.put("created_at", createdAt.toString());
            n.put("skipped", skipped);
            AtomicFile.write(dir.resolve(FILE), json.writeValueAsBytes(n));
        }

        static Meta read(ObjectMapper json, Path dir) throws IOException {
            JsonNode n = json.readTree(dir.resolve(FILE).toFile());
            if (n.path("version").asInt(-1) != 1) {
                throw new IOException("unsupported subscription metadata version " + n.path("version"));
            }
            try {
                return new Meta(QueueMeta.required(n, "name").asText(), n.path("max_deliveries").asInt(0),
                        QueueMeta.required(n, "dead_letter_queue").asText(), n.path("paused").asBoolean(false),
                        Instant.parse(QueueMeta.required(n, "created_at").asText()), n.path("skipped").asLong(0));
            } catch (RuntimeException e) {
                throw new IOException("bad subscription metadata in " + dir.resolve(FILE) + ": " + e.getMessage(), e);
            }
        }
    }

    static Path dir(Path queueDir, String name) {
        return queueDir.resolve(DIR).resolve(name);
    }

    /**
     * Makes a new subscription's files, positioned just after {@code at}, under a temporary name, and renames them
     * into place durably; returns its folder.
     */
    static Path create(Path queueDir, Meta meta, Cursor.Position at, ObjectMapper json, StoreConfig config,
                       Quarantine quarantine) throws IOException {
        Path parent = queueDir.resolve(DIR);
        Files.createDirectories(parent);
        Path tmp = parent.resolve(CREATING + meta.name() + "-" + TEMP.incrementAndGet());
        Path dir = dir(queueDir, meta.name());
        try {
            Files.createDirectories(tmp);
            meta.write(json, tmp);
            try (Cursor c = Cursor.create(tmp.resolve(Queue.CURSOR_FILE))) {
                c.reset(at);
                c.sync();
            }
            StateLog.openIn(meta.name(), tmp.resolve(StateLog.DIR), config, quarantine).close();
            FileTrees.sync(tmp);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            AtomicFile.syncDirectory(parent);
            AtomicFile.syncDirectory(queueDir);
            return dir;
        } catch (IOException | RuntimeException e) {
            delete(tmp);
            throw e;
        }
    }

    /** Renames a closed subscription's folder away (durably), then removes its files. */
    static void remove(Path queueDir, String name) throws IOException {
        Path parent = queueDir.resolve(DIR);
        Path gone = parent.resolve(DELETING + name + "-" + TEMP.incrementAndGet());
        Files.move(dir(queueDir, name), gone, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.syncDirectory(parent);
        delete(gone);
    }

    /** The folders of a queue's subscriptions, sorted by name; leftovers of interrupted creates and deletes go. */
    static List<Path> scan(Path queueDir) throws IOException {
        Path parent = queueDir.resolve(DIR);
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(parent)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.startsWith(CREATING) || n.startsWith(DELETING)) {
                    LOG.info("removing {} (a subscription create or delete interrupted by a stop)", p);
                    delete(p);
                } else if (Files.isDirectory(p)) {
                    out.add(p);
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** The highest id any subscription of the queue has consumed to (recovery keeps ids above it unused). */
    static long highestPosition(Path queueDir) throws IOException {
        long max = 0;
        for (Path p : scan(queueDir)) {
            Path f = p.resolve(Queue.CURSOR_FILE);
            if (Files.exists(f)) {
                try (Cursor c = Cursor.open(f)) {
                    if (c.isValid()) {
                        max = Math.max(max, c.position().id());
                    }
                }
            }
        }
        return max;
    }

    private static void delete(Path p) {
        try {
            FileTrees.delete(p);
        } catch (IOException e) {
            LOG.warn("could not remove {} completely: {} (retried at the next start)", p, e.toString());
        }
    }
}
