package dev.spool.broker.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.AtomicFile;
import dev.spool.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sessions kept on this node's disk: the tokens file (a snapshot, replaced atomically, fsynced, owner-only; see
 * {@link AtomicFile}) and beside it {@code <file>.log}, where each login and logout appends one line ({@code
 * {"op":"add",...}} or {@code {"op":"revoke","sha256":...}}) and syncs it: a login costs one short write, whatever
 * the number of live tokens. The log is folded into the snapshot at start and whenever it has grown past
 * {@link #COMPACT_AFTER} lines; a line torn by a crash is ignored. Both files are created owner-only.
 */
final class SessionsFile implements SessionsKept {
    private static final Logger LOG = LoggerFactory.getLogger(SessionsFile.class);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    /** Log lines after which the log is folded into the snapshot (keeps start-up and disk use bounded). */
    static final int COMPACT_AFTER = 10_000;

    private final Path file;
    private final Path logFile;
    private final Clock clock;
    private Map<String, Principal> byHash;
    private FileChannel log;
    private int logLines;

    SessionsFile(Path file, Clock clock) {
        this.file = file.toAbsolutePath();
        this.logFile = this.file.resolveSibling(this.file.getFileName() + ".log");
        this.clock = clock;
    }

    @Override
    public void load(Map<String, Principal> byHash) throws IOException {
        this.byHash = byHash;
        if (Files.exists(file)) {
            try {
                JsonNode root = JSON.readTree(file.toFile());
                for (JsonNode t : root.path("tokens")) {
                    byHash.put(t.get("sha256").asText(), SessionsKept.principal(t));
                }
            } catch (IOException | RuntimeException e) {
                // Losing sessions is safe: users sign in again.
                LOG.error("tokens file {} is unreadable ({}); every user must sign in again", file, e.toString());
                byHash.clear();
            }
        }
        if (Files.exists(logFile)) {
            for (String line : Files.readAllLines(logFile, StandardCharsets.UTF_8)) {
                try {
                    JsonNode t = JSON.readTree(line);
                    if ("revoke".equals(t.path("op").asText())) {
                        byHash.remove(t.get("sha256").asText());
                    } else {
                        byHash.put(t.get("sha256").asText(), SessionsKept.principal(t));
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.warn("tokens log {}: skipping a damaged line (a login or logout torn by a crash)", logFile);
                }
            }
        }
        compact();
    }

    @Override
    public void added(String hash, Principal p) throws IOException {
        append(SessionsKept.record(hash, p));
    }

    @Override
    public void revoked(String hash) throws IOException {
        append(JSON.createObjectNode().put("op", "revoke").put("sha256", hash).toString());
    }

    @Override
    public void expired(List<String> hashes) {
        // gone from memory; the next compaction leaves them out of the snapshot
    }

    @Override
    public boolean shared() {
        return false;
    }

    @Override
    public void sync() {
        // every session this node knows is its own
    }

    /** Appends one line to the log and syncs it; folds the log into the snapshot when it grew long. */
    private void append(String line) throws IOException {
        try {
            if (log == null) {
                log = FileChannel.open(logFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND), PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            }
            ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                log.write(b);
            }
            log.force(false);
            if (++logLines >= COMPACT_AFTER) {
                compact();
            }
        } catch (IOException e) {
            // Classified like the store's own files: a full disk is answered 507, not a bug's 500.
            throw StoreException.of("writing the tokens log " + logFile, e, logFile);
        }
    }

    /** Writes the live tokens as the snapshot, then starts an empty log. */
    private void compact() throws IOException {
        Instant now = clock.instant();
        byHash.values().removeIf(p -> !now.isBefore(p.expiresAt()));
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        ArrayNode arr = root.putArray("tokens");
        byHash.forEach((h, p) -> {
            ObjectNode t = arr.addObject();
            t.put("sha256", h);
            t.put("username", p.username());
            t.put("role", p.role().name());
            t.put("expires_at", p.expiresAt().toString());
            t.put("generation", p.generation());
        });
        try {
            Files.createDirectories(file.getParent());
            AtomicFile.writeOwnerOnly(file, JSON.writeValueAsBytes(root));
            if (log != null) {
                log.close();
                log = null;
            }
            // The snapshot holds everything the log said: a crash before this delete replays it harmlessly.
            Files.deleteIfExists(logFile);
            logLines = 0;
        } catch (IOException e) {
            throw StoreException.of("writing the tokens file " + file, e, file);
        }
    }
}
