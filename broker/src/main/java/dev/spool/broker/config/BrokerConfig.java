package dev.spool.broker.config;

import dev.spool.storage.Fsync;

import java.nio.file.Path;
import java.util.Map;

/**
 * The broker's whole configuration, validated once at start-up by {@link ConfigLoader}.
 *
 * @param checkpointFile    {@code QueueManager.path}: the checkpoint file; journals live beside it
 * @param defaultMaxLength  {@code QueueManager.max_length}: max length of a queue created without one
 * @param savePeriodSeconds {@code QueueManager.save_period_time}: checkpoint interval
 * @param host              {@code server.host}
 * @param port              {@code server.port} (0 picks a free port)
 * @param ioThreads         {@code server.io_threads}
 * @param workerThreads     {@code server.worker_threads}
 * @param maxMessageBytes   {@code server.max_message_bytes}: largest accepted request body
 * @param usersFile         {@code auth.users_file}
 * @param tokensFile        {@code auth.tokens_file}: hashes of live tokens, so they survive a restart
 * @param tokenTtlSeconds   {@code auth.token_ttl_seconds}
 * @param auditEnabled      {@code audit.enabled}: false only to measure the audit log's cost
 * @param auditFile         {@code audit.file}
 * @param auditBody         {@code audit.body}: full, truncate or omit
 * @param auditBodyMaxChars {@code audit.body_max_chars}: the cut for {@code truncate}
 * @param maxBatchMessages  {@code server.max_batch_messages}: most messages in one batch push or pull
 * @param maxBatchBytes     {@code server.max_batch_bytes}: largest batch request body
 * @param maxWaitSeconds    {@code server.max_wait_seconds}: cap on {@code wait=} of long polls
 * @param maxDeliveries     {@code queues.max_deliveries}: default dead-letter threshold of new queues (0: never)
 * @param visibilitySeconds {@code queues.visibility_seconds}: default lease visibility timeout
 * @param idempotencyWindowSeconds {@code queues.idempotency_window_seconds}: how long an Idempotency-Key is remembered
 * @param fsync             {@code storage.fsync}
 * @param fsyncIntervalMs   {@code storage.fsync_interval_ms}
 * @param minFreeBytes      {@code storage.min_free_bytes}: pushes are refused with 507 rather than go under it
 * @param requestHeadTimeoutMs {@code server.request_head_timeout_ms}: a connection whose request head is not
 *                          complete this long after it began is closed
 * @param idleTimeoutMs     {@code server.idle_timeout_ms}: a connection with no traffic (between requests, or in a
 *                          stalled body) this long is closed; longer than {@code max_wait_seconds}
 * @param maxConnections    {@code server.max_connections}: most open connections (lowered at start to what the
 *                          file-descriptor limit leaves)
 * @param maxConnectionsPerAddress {@code server.max_connections_per_address}: most from one client address
 * @param bodyTimeoutMs     {@code server.body_timeout_ms}: a request body not wholly received this long after its
 *                          head is answered 408 and its connection closed
 * @param maxHeaderBytes    {@code server.max_header_bytes}: a larger request head is answered 431
 * @param trustedProxies    {@code server.trusted_proxies}: CIDRs of load balancers whose {@code Forwarded} and
 *                          {@code X-Forwarded-For} headers name the client
 * @param auditMaxFileBytes {@code audit.max_file_bytes}: the audit file is rotated before it passes this size
 * @param auditMaxFiles     {@code audit.max_files}: rotated (compressed) audit files kept; older ones are deleted
 * @param auditCompress     {@code audit.compress}: gzip rotated audit files (off the request path)
 * @param auditMaxBufferBytes {@code audit.max_buffer_bytes}: events waiting to be written take at most this much
 *                          memory (beyond it they are dropped and counted); one event at most a 64th of it (a larger
 *                          body is recorded truncated)
 * @param metricsEnabled    {@code metrics.enabled}: {@code GET /metrics} and request counting (false only to
 *                          measure their cost)
 * @param metricsBearerToken {@code metrics.bearer_token}: when set, scrapes must send it as a bearer token;
 *                          null: scrapes need no token
 * @param tls               {@code server.tls}: an HTTPS listener, or null for plain HTTP only
 * @param source            the config file these settings came from, or null (defaults only)
 */
public record BrokerConfig(Path checkpointFile, long defaultMaxLength, long savePeriodSeconds,
                           String host, int port, int ioThreads, int workerThreads, int maxMessageBytes,
                           Path usersFile, Path tokensFile, long tokenTtlSeconds,
                           boolean auditEnabled, Path auditFile, AuditBody auditBody, int auditBodyMaxChars,
                           int maxBatchMessages, int maxBatchBytes, long maxWaitSeconds, int maxDeliveries, long visibilitySeconds,
                           long idempotencyWindowSeconds, Fsync fsync, long fsyncIntervalMs, long minFreeBytes,
                           long requestHeadTimeoutMs, long idleTimeoutMs, int maxConnections, int maxConnectionsPerAddress,
                           long bodyTimeoutMs, int maxHeaderBytes, java.util.List<Cidr> trustedProxies,
                           long auditMaxFileBytes, int auditMaxFiles, boolean auditCompress, long auditMaxBufferBytes,
                           boolean metricsEnabled, String metricsBearerToken,
                           Tls tls, Kafka kafka, Path source) {

    /**
     * {@code storage.backend: kafka}: the cluster and this node's part in it (README, "Run a cluster").
     *
     * @param client passed to every Kafka client (security.protocol, sasl.*, ssl.* ...)
     */
    public record Kafka(String bootstrapServers, Map<String, String> client, int replicationFactor,
                        int minInsyncReplicas, long lockDurationMs, int maxPollRecords, long prefetchHoldMs,
                        long consumerIdleMs, int maxDeliveryLimit, String nodeId, String advertisedUrl) {
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

    /** How much of a request body the audit log keeps. */
    public enum AuditBody { FULL, TRUNCATE, OMIT }

    public BrokerConfig {
        require(defaultMaxLength > 0, "QueueManager.max_length must be > 0, was " + defaultMaxLength);
        require(savePeriodSeconds > 0, "QueueManager.save_period_time must be > 0, was " + savePeriodSeconds);
        require(port >= 0 && port <= 65535, "server.port must be in 0..65535, was " + port);
        require(ioThreads > 0, "server.io_threads must be > 0, was " + ioThreads);
        require(workerThreads > 0, "server.worker_threads must be > 0, was " + workerThreads);
        require(maxMessageBytes > 0, "server.max_message_bytes must be > 0, was " + maxMessageBytes);
        require(tokenTtlSeconds > 0, "auth.token_ttl_seconds must be > 0, was " + tokenTtlSeconds);
        require(auditBodyMaxChars > 0, "audit.body_max_chars must be > 0, was " + auditBodyMaxChars);
        require(maxBatchMessages > 0, "server.max_batch_messages must be > 0, was " + maxBatchMessages);
        require(maxBatchBytes > 0, "server.max_batch_bytes must be > 0, was " + maxBatchBytes);
        require(maxWaitSeconds >= 0, "server.max_wait_seconds must be >= 0, was " + maxWaitSeconds);
        require(maxDeliveries >= 0, "queues.max_deliveries must be >= 0, was " + maxDeliveries);
        require(visibilitySeconds > 0, "queues.visibility_seconds must be > 0, was " + visibilitySeconds);
        require(idempotencyWindowSeconds > 0, "queues.idempotency_window_seconds must be > 0, was "
                + idempotencyWindowSeconds);
        require(fsyncIntervalMs > 0, "storage.fsync_interval_ms must be > 0, was " + fsyncIntervalMs);
        require(minFreeBytes >= 0, "storage.min_free_bytes must be >= 0, was " + minFreeBytes);
        require(requestHeadTimeoutMs > 0, "server.request_head_timeout_ms must be > 0, was " + requestHeadTimeoutMs);
        require(idleTimeoutMs > maxWaitSeconds * 1000, "server.idle_timeout_ms must exceed server.max_wait_seconds "
                + "(a long poll is an idle connection), was " + idleTimeoutMs);
        require(metricsBearerToken == null || metricsBearerToken.length() >= 16,
                "metrics.bearer_token must be at least 16 characters when set");
        require(auditMaxFileBytes >= 1024, "audit.max_file_bytes must be >= 1024, was " + auditMaxFileBytes);
        require(auditMaxFiles >= 1, "audit.max_files must be >= 1, was " + auditMaxFiles);
        require(auditMaxBufferBytes >= 65_536, "audit.max_buffer_bytes must be >= 65536, was " + auditMaxBufferBytes);
        require(maxConnections > 0, "server.max_connections must be > 0, was " + maxConnections);
        require(bodyTimeoutMs > 0, "server.body_timeout_ms must be > 0, was " + bodyTimeoutMs);
        require(maxHeaderBytes >= 1024, "server.max_header_bytes must be >= 1024, was " + maxHeaderBytes);
        trustedProxies = java.util.List.copyOf(trustedProxies);
        require(maxConnectionsPerAddress > 0, "server.max_connections_per_address must be > 0, was "
                + maxConnectionsPerAddress);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ConfigException(message);
        }
    }
}
