package dev.spool.storage.kafka;

import dev.spool.storage.StoreException;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;

/**
 * The cluster's Spool nodes, in the compacted topic {@code spool.__nodes}: node id to its advertised URL, this
 * process's instance id and the time of its last heartbeat (every {@link #HEARTBEAT_MS}). A node whose heartbeat is
 * older than {@link #STALE_MS} is gone: a lease it issued is answered "expired" by any node without being forwarded
 * (an ack for a node whose host is down used to wait for a connect that timed out, and answer 503 forever). A node
 * whose id another live process is using refuses to start.
 *
 * <p>Value: {@code v2\n<url or empty>\n<instance>\n<epoch ms>}. A value written by an earlier Spool (the URL alone)
 * reads as a live node with no heartbeat.
 */
final class NodeRegistry {
    static final long HEARTBEAT_MS = 3_000;
    static final long STALE_MS = 4 * HEARTBEAT_MS;

    /** One node's entry. {@code beatAt} is -1 for an entry of an earlier Spool (no heartbeat: taken as alive). */
    record Entry(String url, String instance, long beatAt) {
        static Entry decode(byte[] v) {
            String s = new String(v, StandardCharsets.UTF_8);
            if (!s.startsWith("v2\n")) {
                return new Entry(s, "", -1);
            }
            String[] f = s.split("\n", -1);
            return new Entry(f[1], f[2], Long.parseLong(f[3]));
        }

        byte[] encode() {
            return ("v2\n" + url + "\n" + instance + "\n" + beatAt).getBytes(StandardCharsets.UTF_8);
        }

        boolean alive(long now) {
            return beatAt < 0 || now - beatAt < STALE_MS;
        }
    }

    private final KafkaSharedMap nodes;
    private final String nodeId;
    private final String url;
    /** Only a node other nodes can reach registers; a tool (the user command) and a node without a URL do not. */
    private final boolean registers;
    private final String instance = UUID.randomUUID().toString();

    NodeRegistry(KafkaSharedMap nodes, String nodeId, String advertisedUrl) {
        this.nodes = nodes;
        this.nodeId = nodeId;
        this.url = advertisedUrl == null ? "" : advertisedUrl;
        this.registers = advertisedUrl != null;
    }

    /**
     * Registers this node, unless another live process has its id. An entry with a recent heartbeat may be this
     * node's own from before a crash: the registry waits up to two heartbeats for a newer one, and refuses only if
     * one comes.
     */
    void join() throws InterruptedException {
        if (!registers) {
            return;
        }
        nodes.sync();
        byte[] v = nodes.get(nodeId);
        if (v != null) {
            Entry seen = Entry.decode(v);
            if (seen.beatAt() >= 0 && seen.alive(System.currentTimeMillis())) {
                long until = System.currentTimeMillis() + 2 * HEARTBEAT_MS + 500;
                while (System.currentTimeMillis() < until) {
                    Thread.sleep(100);
                    nodes.sync();
                    byte[] now = nodes.get(nodeId);
                    if (now != null && Entry.decode(now).beatAt() > seen.beatAt()) {
                        throw new StoreException(StoreException.Code.UNAVAILABLE, "node.id '" + nodeId + "' is in use "
                                + "by another running Spool node (it beats every " + HEARTBEAT_MS / 1000 + " s); give each "
                                + "node its own node.id", null);
                    }
                }
            }
        }
        beat();
    }

    /** Writes this node's heartbeat. */
    void beat() {
        if (!registers) {
            return;
        }
        nodes.put(nodeId, new Entry(url, instance, System.currentTimeMillis()).encode());
    }

    /** Removes this node (a clean stop): its leases are answered "expired" from now on. */
    void leave() {
        if (registers) {
            nodes.remove(nodeId);
        }
    }

    /** A live node's URL for settling its leases; empty for this node, a node gone or stale, or one with no URL. */
    Optional<String> liveUrl(String id) {
        if (id.equals(nodeId)) {
            return Optional.empty();
        }
        byte[] v = nodes.get(id);
        if (v == null) {
            return Optional.empty();
        }
        Entry e = Entry.decode(v);
        return e.alive(System.currentTimeMillis()) && !e.url().isEmpty() ? Optional.of(e.url()) : Optional.empty();
    }
}
