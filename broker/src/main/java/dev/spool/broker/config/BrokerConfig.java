package dev.spool.broker.config;

import dev.spool.storage.Fsync;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The broker's whole configuration, validated once at start-up by {@link ConfigLoader}: one record per section of
 * {@code config.yaml} (README, "Configuration", has every key).
 *
 * @param queueManager {@code QueueManager.*}
 * @param server       {@code server.*}
 * @param auth         {@code auth.*}
 * @param audit        {@code audit.*}
 * @param queues       {@code queues.*}
 * @param storage      {@code storage.*}
 * @param metrics      {@code metrics.*}
 * @param kafka        {@code storage.backend: kafka} with {@code kafka.*} and {@code node.*}, or null for the journal
 * @param source       the config file these settings came from, or null (defaults only)
 */
public record BrokerConfig(QueueManager queueManager, Server server, Auth auth, Audit audit, Queues queues,
                           Storage storage, Metrics metrics, Kafka kafka, Path source) {

    /**
     * {@code QueueManager.*}.
     *
     * @param checkpointFile    {@code path}: the checkpoint file; journals live beside it
     * @param defaultMaxLength  {@code max_length}: max length of a queue created without one
     * @param savePeriodSeconds {@code save_period_time}: checkpoint interval
     */
    public record QueueManager(Path checkpointFile, long defaultMaxLength, long savePeriodSeconds) {
        public QueueManager {
            require(defaultMaxLength > 0, "QueueManager.max_length must be > 0, was " + defaultMaxLength);
            require(savePeriodSeconds > 0, "QueueManager.save_period_time must be > 0, was " + savePeriodSeconds);
        }
    }

    /**
     * {@code server.*}.
     *
     * @param host                     {@code host}
     * @param port                     {@code port} (0 picks a free port)
     * @param ioThreads                {@code io_threads}
     * @param workerThreads            {@code worker_threads}
     * @param maxMessageBytes          {@code max_message_bytes}: largest accepted request body
     * @param maxBatchMessages         {@code max_batch_messages}: most messages in one batch push or pull
     * @param maxBatchBytes            {@code max_batch_bytes}: largest batch request body
     * @param maxWaitSeconds           {@code max_wait_seconds}: cap on {@code wait=} of long polls
     * @param requestHeadTimeoutMs     {@code request_head_timeout_ms}: a connection whose request head is not
     *                                 complete this long after it began is closed
     * @param idleTimeoutMs            {@code idle_timeout_ms}: a connection without a request (or not reading its
     *                                 answer) this long is closed; longer than {@code max_wait_seconds}
     * @param maxConnections           {@code max_connections}: most open connections (lowered at start to what the
     *                                 file-descriptor limit leaves)
     * @param maxConnectionsPerAddress {@code max_connections_per_address}: most from one client address
     * @param bodyTimeoutMs            {@code body_timeout_ms}: a request body not wholly received this long after
     *                                 its head is answered 408 and its connection closed
     * @param maxHeaderBytes           {@code max_header_bytes}: a larger request head is answered 431
     * @param trustedProxies           {@code trusted_proxies}: CIDRs of load balancers whose {@code Forwarded} and
     *                                 {@code X-Forwarded-For} headers name the client
     * @param tls                      {@code tls}: an HTTPS listener, or null for plain HTTP only
     */
    public record Server(String host, int port, int ioThreads, int workerThreads, int maxMessageBytes,
                         int maxBatchMessages, int maxBatchBytes, long maxWaitSeconds, long requestHeadTimeoutMs,
                         long idleTimeoutMs, int maxConnections, int maxConnectionsPerAddress, long bodyTimeoutMs,
                         int maxHeaderBytes, List<Cidr> trustedProxies, Tls tls) {
        public Server {
            require(port >= 0 && port <= 65535, "server.port must be in 0..65535, was " + port);
            require(ioThreads > 0, "server.io_threads must be > 0, was " + ioThreads);
            require(workerThreads > 0, "server.worker_threads must be > 0, was " + workerThreads);
            require(maxMessageBytes > 0, "server.max_message_bytes must be > 0, was " + maxMessageBytes);
            require(maxBatchMessages > 0, "server.max_batch_messages must be > 0, was " + maxBatchMessages);
            require(maxBatchBytes > 0, "server.max_batch_bytes must be > 0, was " + maxBatchBytes);
            require(maxWaitSeconds >= 0, "server.max_wait_seconds must be >= 0, was " + maxWaitSeconds);
            require(requestHeadTimeoutMs > 0, "server.request_head_timeout_ms must be > 0, was "
                    + requestHeadTimeoutMs);
            require(idleTimeoutMs > maxWaitSeconds * 1000, "server.idle_timeout_ms must exceed "
                    + "server.max_wait_seconds (a long poll is an idle connection), was " + idleTimeoutMs);
            require(maxConnections > 0, "server.max_connections must be > 0, was " + maxConnections);
            require(maxConnectionsPerAddress > 0, "server.max_connections_per_address must be > 0, was "
                    + maxConnectionsPerAddress);
            require(bodyTimeoutMs > 0, "server.body_timeout_ms must be > 0, was " + bodyTimeoutMs);
            require(maxHeaderBytes >= 1024, "server.max_header_bytes must be >= 1024, was " + maxHeaderBytes);
            trustedProxies = List.copyOf(trustedProxies);
        }
    }

    /**
     * {@code auth.*}.
     *
     * @param usersFile       {@code users_file}
     * @param tokensFile      {@code tokens_file}: hashes of live tokens, so they survive a restart
     * @param tokenTtlSeconds {@code token_ttl_seconds}
     */
    public record Auth(Path usersFile, Path tokensFile, long tokenTtlSeconds) {
        public Auth {
            require(tokenTtlSeconds > 0, "auth.token_ttl_seconds must be > 0, was " + tokenTtlSeconds);
        }
    }

    /**
     * {@code audit.*}.
     *
     * @param enabled        {@code enabled}: false only to measure the audit log's cost
     * @param file           {@code file}
     * @param body           {@code body}: full, truncate or omit
     * @param bodyMaxChars   {@code body_max_chars}: the cut for {@code truncate}
     * @param maxFileBytes   {@code max_file_bytes}: the file is rotated before it passes this size
     * @param maxFiles       {@code max_files}: rotated (compressed) files kept; older ones are deleted
     * @param compress       {@code compress}: how rotated files are compressed (off the request path)
     * @param maxBufferBytes {@code max_buffer_bytes}: events waiting to be written take at most this much memory
     *                       (beyond it they are dropped and counted); one event at most a 64th of it
     */
    public record Audit(boolean enabled, Path file, AuditBody body, int bodyMaxChars, long maxFileBytes,
                        int maxFiles, AuditCompress compress, long maxBufferBytes) {
        public Audit {
            require(bodyMaxChars > 0, "audit.body_max_chars must be > 0, was " + bodyMaxChars);
            require(maxFileBytes >= 1024, "audit.max_file_bytes must be >= 1024, was " + maxFileBytes);
            require(maxFiles >= 1, "audit.max_files must be >= 1, was " + maxFiles);
            require(maxBufferBytes >= 65_536, "audit.max_buffer_bytes must be >= 65536, was " + maxBufferBytes);
        }
    }

    /**
     * {@code queues.*}: defaults of new queues.
     *
     * @param maxDeliveries            {@code max_deliveries}: dead-letter threshold (0: never)
     * @param visibilitySeconds        {@code visibility_seconds}: lease visibility timeout
     * @param idempotencyWindowSeconds {@code idempotency_window_seconds}: how long an Idempotency-Key is remembered
     * @param maxVisibilitySeconds     {@code max_visibility_seconds}: the longest lease visibility or renewal a
     *                                 request may ask for (1 to 43200)
     */
    public record Queues(int maxDeliveries, long visibilitySeconds, long idempotencyWindowSeconds,
                         long maxVisibilitySeconds) {
        public Queues {
            require(maxDeliveries >= 0, "queues.max_deliveries must be >= 0, was " + maxDeliveries);
            require(maxVisibilitySeconds >= 1 && maxVisibilitySeconds <= 43_200,
                    "queues.max_visibility_seconds must be within 1..43200, was " + maxVisibilitySeconds);
            require(visibilitySeconds > 0 && visibilitySeconds <= maxVisibilitySeconds,
                    "queues.visibility_seconds must be within 1..queues.max_visibility_seconds (" + maxVisibilitySeconds
                            + "), was " + visibilitySeconds);
            require(idempotencyWindowSeconds > 0, "queues.idempotency_window_seconds must be > 0, was "
                    + idempotencyWindowSeconds);
        }
    }

    /**
     * {@code storage.*} (the backend itself is {@link #kafka}).
     *
     * @param fsync           {@code fsync}
     * @param fsyncIntervalMs {@code fsync_interval_ms}
     * @param minFreeBytes    {@code min_free_bytes}: pushes are refused with 507 rather than go under it
     * @param retentionMaxAgeSeconds {@code retention.max_age}: named subscriptions may hold back no journal file older
     *                        than this (0: no bound)
     * @param retentionMaxBytes {@code retention.max_bytes}: nor more than this many bytes of a queue's journal files
     *                        (0: no bound)
     */
    public record Storage(Fsync fsync, long fsyncIntervalMs, long minFreeBytes, long retentionMaxAgeSeconds,
                          long retentionMaxBytes) {
        public Storage {
            require(fsyncIntervalMs > 0, "storage.fsync_interval_ms must be > 0, was " + fsyncIntervalMs);
            require(minFreeBytes >= 0, "storage.min_free_bytes must be >= 0, was " + minFreeBytes);
        }
    }

    /**
     * {@code metrics.*}.
     *
     * @param enabled     {@code enabled}: {@code GET /metrics} and request counting (false only to measure their cost)
     * @param bearerToken {@code bearer_token}: when set, scrapes must send it as a bearer token; null: no token
     */
    public record Metrics(boolean enabled, String bearerToken) {
        public Metrics {
            require(bearerToken == null || bearerToken.length() >= 16,
                    "metrics.bearer_token must be at least 16 characters when set");
        }

        @Override
        public String toString() {
            return "Metrics[enabled=" + enabled + ", bearerToken=" + (bearerToken == null ? "none" : "set") + "]";
        }
    }

    /**
     * {@code storage.backend: kafka}: the cluster and this node's part in it (README, "Run a cluster").
     *
     * @param client passed to every Kafka client (security.protocol, sasl.*, ssl.* ...)
     */
    public record Kafka(String bootstrapServers, Map<String, String> client, int replicationFactor,
                        int minInsyncReplicas, long lockDurationMs, int maxPollRecords, long prefetchHoldMs,
                        long consumerIdleMs, int maxDeliveryLimit, String nodeId, String advertisedUrl,
                        int maxKeysInMemory) {
        @Override
        public String toString() {
            return "Kafka[bootstrap=" + bootstrapServers + ", node=" + nodeId + "]"; // client may hold secrets
        }
    }

    /**
     * The HTTPS listener.
     *
     * @param keystore  {@code server.tls.keystore}: a PKCS12 file with the key and certificate chain
     * @param password  {@code server.tls.password}, or the {@code SPOOL_TLS_PASSWORD} environment variable
     * @param port      {@code server.tls.port} (0 picks a free one)
     * @param plainHttp {@code server.tls.plain_http}: also serve plain HTTP on {@code server.port}
     */
    public record Tls(Path keystore, String password, int port, boolean plainHttp) {
        public Tls {
            if (port < 0 || port > 65535) {
                throw new ConfigException("server.tls.port must be in 0..65535, was " + port);
            }
        }

        @Override
        public String toString() {
            return "Tls[keystore=" + keystore + ", port=" + port + ", plainHttp=" + plainHttp + "]"; // no password
        }
    }

    /**
     * How rotated audit files are compressed: {@code true} ({@code AUTO}, the default) with zstd where its program is
     * installed and gzip otherwise, or always {@code zstd} or {@code gzip}, or not at all ({@code false}).
     */
    public enum AuditCompress { AUTO, ZSTD, GZIP, NONE }

    /** How much of a request body the audit log keeps. */
    public enum AuditBody { FULL, TRUNCATE, OMIT }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ConfigException(message);
        }
    }
}
