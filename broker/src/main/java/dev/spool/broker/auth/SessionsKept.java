package dev.spool.broker.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Where a {@link TokenService}'s sessions are kept, by the SHA-256 of their token: one strategy per backend. The
 * service keeps the sessions in memory and decides; a strategy reads them at start and records each change.
 */
sealed interface SessionsKept permits SessionsFile, ClusterSessions {
    ObjectMapper JSON = new ObjectMapper();

    /** Reads the sessions kept into {@code byHash}, which the strategy may keep current (a cluster's). */
    void load(Map<String, Principal> byHash) throws IOException;

    /** Records a new session. Caller holds the service's lock. */
    void added(String hash, Principal p) throws IOException;

    /** Records a session's end. Caller holds the service's lock. */
    void revoked(String hash) throws IOException;

    /** Sessions found expired (already gone from memory), to forget where they are kept; outside the lock. */
    void expired(List<String> hashes);

    /** Whether another node may have issued a token this one has not read yet. */
    boolean shared();

    /** Returns once every session written anywhere before the call has been read. */
    void sync();

    /** A session as one JSON record, {@code {"op":"add","sha256":...}}. */
    static String record(String hash, Principal p) {
        ObjectNode t = JSON.createObjectNode();
        t.put("op", "add");
        t.put("sha256", hash);
        t.put("username", p.username());
        t.put("role", p.role().name());
        t.put("expires_at", p.expiresAt().toString());
        t.put("generation", p.generation());
        return t.toString();
    }

    /** The session a record holds (a record without a generation is of generation 0). */
    static Principal principal(JsonNode t) {
        return new Principal(t.get("username").asText(), Role.parse(t.get("role").asText()),
                Instant.parse(t.get("expires_at").asText()), t.path("generation").asLong(0));
    }
}
