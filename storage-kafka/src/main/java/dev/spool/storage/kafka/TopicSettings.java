package dev.spool.storage.kafka;

import dev.spool.storage.StoreException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The one-partition topics of a node's shared state (the queue catalog, and the compacted maps of users, sessions,
 * nodes and idempotency keys): made with the settings they need, or, made by an earlier Spool, set to them.
 */
final class TopicSettings {
    private static final Logger LOG = LoggerFactory.getLogger(TopicSettings.class);
    private final Admin admin;
    private final short replicationFactor;
    private final int minInsync;

    TopicSettings(Admin admin, short replicationFactor, int minInsync) {
        this.admin = admin;
        this.replicationFactor = replicationFactor;
        this.minInsync = minInsync;
    }

    /** Creates a one-partition compacted topic for state every node reads, unless it exists. */
    void ensureCompactedTopic(String topic, Map<String, String> config) {
        Map<String, String> cfg = new HashMap<>(Map.of(
                "cleanup.policy", "compact",
                "min.compaction.lag.ms", Long.toString(TimeUnit.DAYS.toMillis(1))));
        cfg.putAll(config);
        if (!ensureTopic(topic, cfg) && !config.isEmpty()) {
            enforce(topic, config); // a topic made by an earlier Spool gets this map's own settings
        }
    }

    /**
     * The catalog is kept whole, forever ({@code cleanup.policy: delete} with no time or size limit: a few records per
     * queue created or deleted). Compacted, as it was before, it kept only a name's last record, so a queue's CLAIM
     * went once its READY superseded it (and a READY alone used to be ignored), and a racing loser's CLAIM written
     * after a READY would take the queue's place: a node started after a compaction lost those queues. A catalog
     * created compacted by an earlier Spool is switched at start; its queues whose CLAIM was compacted away are found
     * by their READY, which carries everything ({@link Catalog}).
     */
    void ensureCatalogTopic() {
        Map<String, String> keep = Map.of("cleanup.policy", "delete", "retention.ms", "-1", "retention.bytes", "-1");
        if (ensureTopic(Catalog.TOPIC, keep)) {
            return; // made now, with these settings (and perhaps not yet known to every broker)
        }
        String was = enforce(Catalog.TOPIC, keep);
        if (was != null) {
            LOG.warn("the queue catalog {} was {}; it is now kept whole, forever (cleanup.policy delete, no "
                    + "retention limit), so that no queue is lost to compaction", Catalog.TOPIC, was);
        }
    }

    /**
     * Sets these settings on an existing topic where they differ (a topic made by an earlier Spool); returns what the
     * changed ones were ({@code key=value, ...}), or null if none differed.
     */
    private String enforce(String topic, Map<String, String> keep) {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            org.apache.kafka.clients.admin.Config current = null;
            for (int attempt = 0; current == null; attempt++) {
                try {
                    current = admin.describeConfigs(List.of(r)).all().get(60, TimeUnit.SECONDS).get(r);
                } catch (ExecutionException e) {
                    // Made a moment ago by another node: the broker asked may not know it yet.
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || attempt >= 50) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
            List<AlterConfigOp> ops = new ArrayList<>();
            java.util.StringJoiner was = new java.util.StringJoiner(", ");
            for (Map.Entry<String, String> kv : new java.util.TreeMap<>(keep).entrySet()) {
                ConfigEntry e = current.get(kv.getKey());
                if (e == null || !kv.getValue().equals(e.value())) {
                    ops.add(new AlterConfigOp(new ConfigEntry(kv.getKey(), kv.getValue()), AlterConfigOp.OpType.SET));
                    was.add(kv.getKey() + "=" + (e == null ? "unset" : e.value()));
                }
            }
            if (ops.isEmpty()) {
                return null;
            }
            admin.incrementalAlterConfigs(Map.of(r, ops)).all().get(60, TimeUnit.SECONDS);
            return was.toString();
        } catch (ExecutionException | TimeoutException e) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot check the settings of " + topic
                    + ": " + (e.getCause() == null ? e : e.getCause()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted", e);
        }
    }

    /** Creates a one-partition topic with these settings (and the configured min in-sync), unless it exists. */
    /** @return whether this call created it (with these settings), false if it existed */
    private boolean ensureTopic(String topic, Map<String, String> config) {
        Map<String, String> cfg = new HashMap<>(config);
        cfg.putIfAbsent("min.insync.replicas", Integer.toString(minInsync));
        NewTopic t = new NewTopic(topic, 1, replicationFactor).configs(cfg);
        try {
            admin.createTopics(List.of(t)).all().get(60, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot create " + topic + ": "
                        + e.getCause(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, "Kafka did not create " + topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted", e);
        }
        return false;
    }
}
