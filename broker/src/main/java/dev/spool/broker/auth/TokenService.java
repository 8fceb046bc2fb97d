package dev.spool.broker.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.AtomicFile;
import dev.spool.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.concurrent.ConcurrentHashMap;

/**
 * Issues, resolves and revokes bearer tokens. A token is 32 random bytes; only its SHA-256 is kept,
 * in memory and in the tokens file (rewritten atomically, fsynced and owner-only on login and logout,
 * see {@link AtomicFile}), so tokens survive a restart and a copy of the file cannot be replayed.
 * Thread-safe.
 */
public final class TokenService {
    private static final Logger LOG = LoggerFactory.getLogger(TokenService.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;
    private final Duration ttl;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, Principal> byHash = new ConcurrentHashMap<>();

    public TokenService(Path file, Duration ttl, Clock clock) throws IOException {
        this.file = file.toAbsolutePath();
        this.ttl = ttl;
        this.clock = clock;
        load();
    }

    /** Live tokens one user may hold; a login beyond that revokes the one that expires first. */
    public static final int MAX_TOKENS_PER_USER = 100;

    /** A new token for the user (revoking the user's oldest if they hold {@link #MAX_TOKENS_PER_USER}). */
    public String issue(String username, Role role) throws IOException {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        synchronized (this) {
            Instant now = clock.instant();
            byHash.values().removeIf(p -> !now.isBefore(p.expiresAt()));
            List<Map.Entry<String, Principal>> mine = byHash.entrySet().stream()
                    .filter(e -> e.getValue().username().equals(username))
                    .sorted(Map.Entry.comparingByValue(java.util.Comparator.comparing(Principal::expiresAt)))
                    .toList();
            for (int i = 0; i <= mine.size() - MAX_TOKENS_PER_USER; i++) {
                byHash.remove(mine.get(i).getKey());
            }
            byHash.put(hash(token), new Principal(username, role, now.plus(ttl)));
        }
        save();
        return token;
    }

    /** The principal of a live token. */
    public Optional<Principal> resolve(String token) {
        if (token == null || token.isEmpty() || token.length() > 256) {
            return Optional.empty();
        }
        Principal p = byHash.get(hash(token));
        if (p == null) {
            return Optional.empty();
        }
        if (!clock.instant().isBefore(p.expiresAt())) {
            byHash.remove(hash(token));
            return Optional.empty();
        }
        return Optional.of(p);
    }

    public Duration ttl() {
        return ttl;
    }

    /** Revokes a token; true if it was live. */
    public boolean revoke(String token) throws IOException {
        boolean removed = byHash.remove(hash(token)) != null;
        if (removed) {
            save();
        }
        return removed;
    }

    private synchronized void save() throws IOException {
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
        });
        try {
            Files.createDirectories(file.getParent());
            AtomicFile.writeOwnerOnly(file, json.writeValueAsBytes(root));
        } catch (IOException e) {
            // Classified like the store's own files: a full disk is answered 507, not a bug's 500.
            throw StoreException.of("writing the tokens file " + file, e, file);
        }
    }

    private void load() throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try {
            JsonNode root = json.readTree(file.toFile());
            for (JsonNode t : root.path("tokens")) {
                byHash.put(t.get("sha256").asText(), new Principal(t.get("username").asText(),
                        Role.parse(t.get("role").asText()), Instant.parse(t.get("expires_at").asText())));
            }
        } catch (IOException | RuntimeException e) {
            // Losing sessions is safe: users sign in again.
            LOG.error("tokens file {} is unreadable ({}); every user must sign in again", file, e.toString());
            byHash.clear();
        }
    }

    private static String hash(String token) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
