package dev.spool.broker.auth;

import dev.spool.storage.SharedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Issues, resolves and revokes bearer tokens. A token is 32 random bytes; only its SHA-256 is kept, in memory and
 * where the sessions are kept, so tokens survive a restart and a copy of the files cannot be replayed. Kept on this
 * node's disk ({@link SessionsFile}) or, in a cluster, in a shared map ({@link ClusterSessions}): a token this node
 * has not seen yet is then looked up again after reading every write made before the request, so a token used on
 * another node right after its login is found. A session is valid while it has not expired and its user still
 * exists with the role and generation it signed in with ({@link #followUsers}).
 *
 * <p>Thread-safe.
 */
public final class TokenService {
    private static final Logger LOG = LoggerFactory.getLogger(TokenService.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Live tokens one user may hold; a login beyond that revokes the one that expires first. */
    public static final int MAX_TOKENS_PER_USER = 100;

    private final Duration ttl;
    private final Clock clock;
    private final Map<String, Principal> byHash = new ConcurrentHashMap<>();
    private final SessionsKept kept;
    /** The users sessions are checked against; null until {@link #followUsers}. */
    private volatile UserStore users;

    private TokenService(SessionsKept kept, Duration ttl, Clock clock) throws IOException {
        this.kept = kept;
        this.ttl = ttl;
        this.clock = clock;
        kept.load(byHash);
    }

    /** Tokens kept in {@code file} and its log beside it. */
    public TokenService(Path file, Duration ttl, Clock clock) throws IOException {
        this(new SessionsFile(file, clock), ttl, clock);
    }

    /** Tokens kept in the cluster's map, valid on every node. */
    public static TokenService shared(SharedMap map, Duration ttl, Clock clock) throws IOException {
        return new TokenService(new ClusterSessions(map), ttl, clock);
    }

    /**
     * A new token for the user as {@code account} says it was when its password was checked (revoking the user's
     * oldest if they hold {@link #MAX_TOKENS_PER_USER}).
     */
    public String issue(String username, Account account) throws IOException {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        List<String> expired;
        synchronized (this) {
            Instant now = clock.instant();
            expired = byHash.entrySet().stream().filter(e -> !now.isBefore(e.getValue().expiresAt()))
                    .map(Map.Entry::getKey).toList();
            expired.forEach(byHash::remove);
            List<Map.Entry<String, Principal>> mine = byHash.entrySet().stream()
                    .filter(e -> e.getValue().username().equals(username))
                    .sorted(Map.Entry.comparingByValue(Comparator.comparing(Principal::expiresAt)))
                    .toList();
            for (int i = 0; i <= mine.size() - MAX_TOKENS_PER_USER; i++) {
                byHash.remove(mine.get(i).getKey());
                kept.revoked(mine.get(i).getKey());
            }
            String h = hash(token);
            Principal p = new Principal(username, account.role(), now.plus(ttl), account.generation());
            byHash.put(h, p);
            kept.added(h, p);
        }
        kept.expired(expired); // outside the lock: a backlog of them never holds up sign-ins
        return token;
    }

    /**
     * The principal of a live token. In a cluster, a token this node has not seen is looked up again after reading
     * every session written before the call (it may have been issued on another node a moment ago): that waits for
     * Kafka, so callers on an IO thread first try {@link #resolveHere}.
     */
    public Optional<Principal> resolve(String token) {
        Optional<Principal> here = resolveHere(token);
        if (here.isPresent() || !kept.shared() || token == null || token.isEmpty() || token.length() > 256) {
            return here;
        }
        kept.sync();
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

    /**
     * From now on a session is valid only while its user exists with the role and generation it signed in with;
     * the sessions of users already gone or changed (while the broker was stopped) are dropped now.
     *
     * @return how many sessions were dropped
     */
    public int followUsers(UserStore users) throws IOException {
        this.users = users;
        if (kept.shared()) {
            return 0; // this node may not have read every user yet; the sessions are checked when used
        }
        List<String> stale = new ArrayList<>();
        byHash.forEach((h, p) -> {
            if (!stillValid(p)) {
                stale.add(h);
            }
        });
        synchronized (this) {
            for (String h : stale) {
                byHash.remove(h);
                kept.revoked(h);
            }
        }
        return stale.size();
    }

    /** Whether a token unknown here may still be valid: it may have been issued on another node of a cluster. */
    public boolean sharedWithOtherNodes() {
        return kept.shared();
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
                kept.revoked(h);
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
            kept.revoked(h);
        }
        return hashes.size();
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
