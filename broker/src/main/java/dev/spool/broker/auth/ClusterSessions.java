package dev.spool.broker.auth;

import dev.spool.storage.SharedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The cluster's sessions, in a {@link SharedMap} keyed by the token's hash: a token issued by one node is accepted
 * by every node, and a logout on one is a logout everywhere.
 */
final class ClusterSessions implements SessionsKept {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSessions.class);
    /** Expired sessions removed from the cluster's map per login. */
    private static final int SWEEP_PER_LOGIN = 20;

    private final SharedMap map;

    ClusterSessions(SharedMap map) {
        this.map = map;
    }

    @Override
    public void load(Map<String, Principal> byHash) {
        map.subscribe((h, v) -> {
            if (v == null) {
                byHash.remove(h);
            } else {
                read(byHash, h, v);
            }
        });
        map.snapshot().forEach((h, v) -> read(byHash, h, v));
        // A session removed between the snapshot and its loading was put back by it: drop what the map lacks.
        byHash.keySet().removeIf(h -> map.get(h) == null);
    }

    private static void read(Map<String, Principal> byHash, String h, byte[] v) {
        try {
            byHash.put(h, SessionsKept.principal(JSON.readTree(v)));
        } catch (IOException | RuntimeException e) {
            LOG.warn("skipping a damaged session record: {}", e.toString());
        }
    }

    @Override
    public void added(String hash, Principal p) {
        map.put(hash, SessionsKept.record(hash, p).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void revoked(String hash) {
        map.remove(hash);
    }

    /** The map forgets expired sessions too (compaction then drops them): a few per login, so a backlog never holds up sign-ins. */
    @Override
    public void expired(List<String> hashes) {
        for (String h : hashes.subList(0, Math.min(SWEEP_PER_LOGIN, hashes.size()))) {
            map.remove(h);
        }
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public void sync() {
        map.sync();
    }
}
