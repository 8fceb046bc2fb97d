package dev.spool.broker.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.AtomicFile;
import dev.spool.storage.SharedMap;
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
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Issues, resolves and revokes bearer tokens. A token is 32 random bytes; only its SHA-256 is kept,
 * in memory and on disk, so tokens survive a restart and a copy of the files cannot be replayed.
 *
 * <p>On disk: the tokens file (a snapshot, replaced atomically, fsynced, owner-only; see {@link AtomicFile})
 * and beside it {@code <file>.log}, where each login and logout appends one line ({@code {"op":"add",...}}
 * or {@code {"op":"revoke","sha256":...}}) and syncs it: a login costs one short write, whatever the
 * number of live tokens. The log is folded into the snapshot at start and whenever it has grown past
 * {@link #COMPACT_AFTER} lines; a line torn by a crash is ignored. Both files are created owner-only.
 *
 * <p>In a cluster ({@link #shared}) the tokens live in a {@link SharedMap} instead, keyed by the same hash, so
 * a token issued by one node is accepted by every node and a logout on one is a logout everywhere. A token this
 * node has not seen yet is looked up again after reading every write made before the request, so a token used
 * on another node right after its login is found.
 *
 * <p>Thread-safe.
 */
public final class TokenService {
    private static final Logger LOG = LoggerFactory.getLogger(TokenService.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final Path file;
    private final Duration ttl;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, Principal> byHash = new ConcurrentHashMap<>();
    private final Path logFile;
    private FileChannel log;
    private int logLines;
    /** The cluster's tokens, or null when they are kept in the files. */
    private final SharedMap shared;

    public TokenService(Path file, Duration ttl, Clock clock) throws IOException {
        this.file = file.toAbsolutePath();
        this.logFile = this.file.resolveSibling(this.file.getFileName() + ".log");
        this.ttl = ttl;
        this.clock = clock;
        this.shared = null;
        load();
        compact();
    }

    private TokenService(SharedMap shared, Duration ttl, Clock clock) {
        this.file = null;
        this.logFile = null;
        this.ttl = ttl;
        this.clock = clock;
        this.shared = shared;
        shared.subscribe((h, v) -> {
            if (v == null) {
                byHash.remove(h);
            } else {
                readPrincipal(h, v);
            }
        });
        shared.snapshot().forEach(this::readPrincipal);
        // A session removed between the snapshot and its loading was put back by it: drop what the map lacks.
        byHash.keySet().removeIf(h -> shared.get(h) == null);
    }

    /** Tokens kept in the cluster's map, valid on every node. */
    public static TokenService shared(SharedMap map, Duration ttl, Clock clock) {
        return new TokenService(map, ttl, clock);
    }

    private void readPrincipal(String h, byte[] v) {
        try {
            byHash.put(h, principal(json.readTree(v)));
        } catch (IOException | RuntimeException e) {
            LOG.warn("skipping a damaged session record: {}", e.toString());
        }
    }

    private static Principal principal(JsonNode t) {
        return new Principal(t.get("username").asText(), Role.parse(t.get("role").asText()),
                Instant.parse(t.get("expires_at").asText()), t.path("generation").asLong(0));
    }

    /** Log lines after which the log is folded into the snapshot (keeps start-up and disk use bounded). */
    static final int COMPACT_AFTER = 10_000;

    /** Live tokens one user may hold; a login beyond that revokes the one that expires first. */
    public static final int MAX_TOKENS_PER_USER = 100;

    /**
     * A new token for the user as {@code account} says it was when its password was checked (revoking the user's
     * oldest if they hold {@link #MAX_TOKENS_PER_USER}).
     */
    public String issue(String username, Account account) throws IOException {
        Role role = account.role();
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        List<String> sweep;
        synchronized (this) {
            Instant now = clock.instant();
            List<String> expired = byHash.entrySet().stream().filter(e -> !now.isBefore(e.getValue().expiresAt()))
                    .map(Map.Entry::getKey).toList();
            expired.forEach(byHash::remove);
            sweep = expired;
            List<Map.Entry<String, Principal>> mine = byHash.entrySet().stream()
                    .filter(e -> e.getValue().username().equals(username))
                    .sorted(Map.Entry.comparingByValue(java.util.Comparator.comparing(Principal::expiresAt)))
                    .toList();
            for (int i = 0; i <= mine.size() - MAX_TOKENS_PER_USER; i++) {
                byHash.remove(mine.get(i).getKey());
                persistRevoke(mine.get(i).getKey());
            }
            String h = hash(token);
            Principal p = new Principal(username, role, now.plus(ttl), account.generation());
            byHash.put(h, p);
            persistAdd(h, p);
        }
        if (shared != null) {
            // The cluster's map forgets expired sessions too (compaction then drops them): a few per login, outside
            // the lock, so a backlog of them never holds up sign-ins.
            for (String h : sweep.subList(0, Math.min(SWEEP_PER_LOGIN, sweep.size()))) {
                shared.remove(h);
            }
        }
        return token;
    }

    /** Expired sessions removed from the cluster's map per login. */
    private static final int SWEEP_PER_LOGIN = 20;

    /**
     * The principal of a live token. In a cluster, a token this node has not seen is looked up again after reading
     * every session written before the call (it may have been issued on another node a moment ago): that waits for
     * Kafka, so callers on an IO thread first try {@link #resolveHere}.
     */
    public Optional<Principal> resolve(String token) {
        Optional<Principal> here = resolveHere(token);
        if (here.isPresent() || shared == null || token == null || token.isEmpty() || token.length() > 256) {
            return here;
        }
        shared.sync();
        UserStore u = users;
        if (u != null) {
            u.sync(); // a user added on another node a moment ago, and signed in there
        }
        return resolveHere(token);
    }

    /** As {@link #resolve}, from what this node has read so far, without waiting. */
    public Optional<Principal> resolveHere(String token) {
        if (token == null || token.isEmpty() || token.length() > 256) {
            return Optional.empty();
        }
        return resolveHashed(hash(token));
    }

    /** As {@link #resolveHere}, for a token already hashed with {@link #hash}. */
    public Optional<Principal> resolveHashed(String h) {
        Principal p = byHash.get(h);
        if (p == null) {
            return Optional.empty();
        }
        if (!clock.instant().isBefore(p.expiresAt())) {
            byHash.remove(h);
            return Optional.empty();
        }
        if (!stillValid(p)) {
            // The user was deleted or changed since (by the API, the command line, another node): the session is
            // over now, whoever changed the user and whether or not its revocation has been written yet. (Kept in
            // the map: in a cluster this node may not have read the user's newest change yet; see resolve.)
            return Optional.empty();
        }
        return Optional.of(p);
    }

    /** Whether the session's user still exists with the session's role and generation. */
    private boolean stillValid(Principal p) {
        UserStore u = users;
        if (u == null) {
            return true;
        }
        try {
            return u.current(p.username()).map(p::matches).orElse(false);
        } catch (IOException unreadable) {
            LOG.error("users file cannot be read; refusing sessions until it can: {}", unreadable.toString());
            return false;
        }
    }

    /** The users sessions are checked against; null until {@link #followUsers}. */
    private volatile UserStore users;

    /**
     * From now on a session is valid only while its user exists with the role and generation it signed in with;
     * the sessions of users already gone or changed (while the broker was stopped) are dropped now.
     *
     * @return how many sessions were dropped
     */
    public int followUsers(UserStore users) throws IOException {
        this.users = users;
        if (shared != null) {
            return 0; // this node may not have read every user yet; the sessions are checked when used
        }
        List<String> stale = new java.util.ArrayList<>();
        byHash.forEach((h, p) -> {
            if (!stillValid(p)) {
                stale.add(h);
            }
        });
        synchronized (this) {
            for (String h : stale) {
                byHash.remove(h);
                persistRevoke(h);
            }
        }
        return stale.size();
    }

    /** Whether a token unknown here may still be valid: it may have been issued on another node of a cluster. */
    public boolean sharedWithOtherNodes() {
        return shared != null;
    }

    public Duration ttl() {
        return ttl;
    }

    /** Revokes a token; true if it was live. */
    public boolean revoke(String token) throws IOException {
        String h = hash(token);
        boolean removed = byHash.remove(h) != null;
        if (removed) {
            synchronized (this) {
                persistRevoke(h);
            }
        }
        return removed;
    }

    /** Revokes every token of a user at once (the user was deleted, or its role or password changed). */
    public synchronized int revokeUser(String username) throws IOException {
        List<String> hashes = byHash.entrySet().stream().filter(e -> e.getValue().username().equals(username))
                .map(Map.Entry::getKey).toList();
        for (String h : hashes) {
            byHash.remove(h);
            persistRevoke(h);
        }
        return hashes.size();
    }

    private void persistAdd(String h, Principal p) throws IOException {
        if (shared != null) {
            shared.put(h, addLine(h, p).getBytes(StandardCharsets.UTF_8));
        } else {
            append(addLine(h, p));
        }
    }

    private void persistRevoke(String h) throws IOException {
        if (shared != null) {
            shared.remove(h);
        } else {
            append(revokeLine(h));
        }
    }

    private String addLine(String h, Principal p) {
        ObjectNode t = json.createObjectNode();
        t.put("op", "add");
        t.put("sha256", h);
        t.put("username", p.username());
        t.put("role", p.role().name());
        t.put("expires_at", p.expiresAt().toString());
        t.put("generation", p.generation());
        return t.toString();
    }

    private String revokeLine(String h) {
        return json.createObjectNode().put("op", "revoke").put("sha256", h).toString();
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
    private synchronized void compact() throws IOException {
        Instant now = clock.instant();
        byHash.values().removeIf(p -> !now.isBefore(p.expiresAt()));
        ObjectNode root = json.createObjectNode();
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
            AtomicFile.writeOwnerOnly(file, json.writeValueAsBytes(root));
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

    private void load() throws IOException {
        if (Files.exists(file)) {
            try {
                JsonNode root = json.readTree(file.toFile());
                for (JsonNode t : root.path("tokens")) {
                    byHash.put(t.get("sha256").asText(), principal(t));
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
                    JsonNode t = json.readTree(line);
                    if ("revoke".equals(t.path("op").asText())) {
                        byHash.remove(t.get("sha256").asText());
                    } else {
                        byHash.put(t.get("sha256").asText(), principal(t));
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.warn("tokens log {}: skipping a damaged line (a login or logout torn by a crash)", logFile);
                }
            }
        }
    }

    /** The SHA-256 of a token in hex: the only form in which sessions are kept. */
    public static String hash(String token) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
