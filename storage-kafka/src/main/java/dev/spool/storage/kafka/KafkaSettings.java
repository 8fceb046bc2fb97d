package dev.spool.storage.kafka;

import java.time.Duration;
import java.util.Map;

/**
 * How a node uses the Kafka cluster (the {@code kafka.*} and {@code node.*} configuration keys).
 *
 * @param bootstrapServers  comma-separated {@code host:port} list
 * @param client            passed to every Kafka client as is (security.protocol, sasl.*, ssl.* ...)
 * @param replicationFactor replicas per queue topic (default 3); a queue is not created with fewer brokers alive
 * @param minInsyncReplicas replicas that must hold a push before it is answered (default 2)
 * @param lockDuration      the share group's record lock: the longest lease visibility on this backend
 * @param maxPollRecords    records one share consumer acquires at a time
 * @param prefetchHold      how long records a node acquired without a waiting request are held for the next
 *                          request before they are released to other nodes
 * @param consumerIdle      how long a queue's consumers stay subscribed with no request
 * @param maxDeliveryLimit  the cluster's {@code group.share.max.delivery.count.limit} (2..25)
 * @param nodeId            this node's identity, unique in the cluster (part of its lease tokens)
 * @param idempotencyWindow how long an {@code Idempotency-Key} is remembered
 * @param advertisedUrl     where other nodes reach this node's API to settle the leases it issued; null: this
 *                          node's leases can only be settled on it, and it is not in the node registry (a tool,
 *                          such as the user command, opens the store so)
 * @param maxKeysInMemory   the idempotency keys this node keeps in memory; older keys of the window are looked
 *                          up in the keys topic when a filter says a push's key may be one of them
 */
public record KafkaSettings(String bootstrapServers, Map<String, String> client, int replicationFactor,
                            int minInsyncReplicas, Duration lockDuration, int maxPollRecords, Duration prefetchHold,
                            Duration consumerIdle, int maxDeliveryLimit, String nodeId, Duration idempotencyWindow,
                            String advertisedUrl, int maxKeysInMemory) {

    public static final Duration DEFAULT_LOCK_DURATION = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_POLL_RECORDS = 100;
    public static final Duration DEFAULT_PREFETCH_HOLD = Duration.ofSeconds(2);
    public static final Duration DEFAULT_CONSUMER_IDLE = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_DELIVERY_LIMIT = 25;
    public static final int DEFAULT_REPLICATION_FACTOR = 3;
    public static final int DEFAULT_MIN_INSYNC_REPLICAS = 2;
    public static final int DEFAULT_MAX_KEYS_IN_MEMORY = 1_000_000;

    /**
     * The share consumers' {@code request.timeout.ms} unless {@code kafka.client} sets it: a third of the record
     * lock, within 2 to 30 s. A fetch's answer is at most this old when it arrives (the client drops the connection
     * of a request older than that), which bounds how long before a poll its records can have been acquired.
     */
    public Duration shareRequestTimeout() {
        return Duration.ofMillis(Math.max(2000, Math.min(30_000, lockDuration.toMillis() / 3)));
    }

    public KafkaSettings {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("kafka.bootstrap_servers is required with storage.backend: kafka");
        }
        client = Map.copyOf(client);
        if (replicationFactor < 1 || minInsyncReplicas < 1 || minInsyncReplicas > replicationFactor) {
            throw new IllegalArgumentException("kafka.replication_factor must be >= 1 and kafka.min_insync_replicas "
                    + "within 1..replication_factor, were " + replicationFactor + " and " + minInsyncReplicas);
        }
        if (lockDuration.toMillis() < 1000) {
            throw new IllegalArgumentException("kafka.lock_duration_ms must be >= 1000");
        }
        if (maxPollRecords < 1 || maxPollRecords > 1000) {
            throw new IllegalArgumentException("kafka.max_poll_records must be within 1..1000");
        }
        if (maxDeliveryLimit < 2 || maxDeliveryLimit > 25) {
            throw new IllegalArgumentException("kafka.max_delivery_limit must be within 2..25");
        }
        if (maxKeysInMemory < 1) {
            throw new IllegalArgumentException("kafka.max_keys_in_memory must be >= 1, was " + maxKeysInMemory);
        }
        if (nodeId == null || !nodeId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new IllegalArgumentException("node.id must be 1 to 64 of [A-Za-z0-9_-], was '" + nodeId + "'");
        }
    }

    /** Settings with every default, for a cluster at {@code bootstrapServers}. */
    public static KafkaSettings of(String bootstrapServers, String nodeId) {
        return new KafkaSettings(bootstrapServers, Map.of(), DEFAULT_REPLICATION_FACTOR, DEFAULT_MIN_INSYNC_REPLICAS,
                DEFAULT_LOCK_DURATION, DEFAULT_MAX_POLL_RECORDS,
                DEFAULT_PREFETCH_HOLD, DEFAULT_CONSUMER_IDLE, DEFAULT_MAX_DELIVERY_LIMIT, nodeId, Duration.ofHours(24), null,
                DEFAULT_MAX_KEYS_IN_MEMORY);
    }

    public KafkaSettings withLockDuration(Duration d) {
        return new KafkaSettings(bootstrapServers, client, replicationFactor, minInsyncReplicas, d, maxPollRecords,
                prefetchHold, consumerIdle, maxDeliveryLimit, nodeId, idempotencyWindow, advertisedUrl, maxKeysInMemory);
    }

    /** These replication settings (a cluster of fewer than three brokers needs a lower factor). */
    public KafkaSettings withReplication(int factor, int minInsync) {
        return new KafkaSettings(bootstrapServers, client, factor, minInsync, lockDuration, maxPollRecords,
                prefetchHold, consumerIdle, maxDeliveryLimit, nodeId, idempotencyWindow, advertisedUrl, maxKeysInMemory);
    }

    public KafkaSettings withAdvertisedUrl(String url) {
        return new KafkaSettings(bootstrapServers, client, replicationFactor, minInsyncReplicas, lockDuration,
                maxPollRecords, prefetchHold, consumerIdle, maxDeliveryLimit, nodeId, idempotencyWindow, url, maxKeysInMemory);
    }

    public KafkaSettings withMaxKeysInMemory(int n) {
        return new KafkaSettings(bootstrapServers, client, replicationFactor, minInsyncReplicas, lockDuration,
                maxPollRecords, prefetchHold, consumerIdle, maxDeliveryLimit, nodeId, idempotencyWindow, advertisedUrl, n);
    }

    public KafkaSettings withPrefetchHold(Duration d) {
        return new KafkaSettings(bootstrapServers, client, replicationFactor, minInsyncReplicas, lockDuration,
                maxPollRecords, d, consumerIdle, maxDeliveryLimit, nodeId, idempotencyWindow, advertisedUrl, maxKeysInMemory);
    }

    /** These Kafka client properties ({@code kafka.client}) in place of the current ones. */
    public KafkaSettings withClient(Map<String, String> properties) {
        return new KafkaSettings(bootstrapServers, properties, replicationFactor, minInsyncReplicas, lockDuration,
                maxPollRecords, prefetchHold, consumerIdle, maxDeliveryLimit, nodeId, idempotencyWindow, advertisedUrl,
                maxKeysInMemory);
    }
}
