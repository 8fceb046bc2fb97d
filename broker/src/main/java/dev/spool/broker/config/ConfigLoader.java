package dev.spool.broker.config;

import dev.spool.storage.Fsync;
import dev.spool.storage.StoreConfig;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code config.yaml}: the seed's {@code QueueManager} section plus {@code server}, {@code auth},
 * {@code audit} and {@code storage}. Every key has a default; an unknown key or a bad value is a
 * {@link ConfigException} naming it. Relative paths resolve against the config file's folder.
 */
public final class ConfigLoader {
    /** The seed's default: small queues, so a runaway producer is refused early. */
    public static final long DEFAULT_MAX_LENGTH = 100;
    // The storage defaults (checkpoint period, fsync policy and interval, idempotency window) have one home,
    // StoreConfig, with the trade-offs they make; the keys below read them from there.
    /** Loopback only by default: exposing the broker is a deliberate choice. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 7500;
    /** One IO thread per core parses and appends on 2 cores without context switches. */
    public static final int DEFAULT_IO_THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());
    /** Workers only run slow calls (login hashing, queue creation, fsync waits); a few suffice. */
    public static final int DEFAULT_WORKER_THREADS = 8;
    /** 1 MiB: results and transactions are small; larger bodies are refused with 413. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
    public static final long DEFAULT_TOKEN_TTL_SECONDS = 86_400;
    /** 1000 messages a batch: amortises the request cost without one request monopolising a thread. */
    public static final int DEFAULT_MAX_BATCH_MESSAGES = 1000;
    /** 16 MiB: a full batch of 1000 messages of 16 KiB. */
    public static final int DEFAULT_MAX_BATCH_BYTES = 16 << 20;
    /**
     * 10 s to send a request head: far more than any client on a network needs, short enough that
     * half-sent heads (a slow-client attack) are closed before they pile up.
     */
    public static final long DEFAULT_REQUEST_HEAD_TIMEOUT_MS = 10_000;
    /** 60 s without traffic closes a connection: above the longest long poll (20 s) and common proxies. */
    public static final long DEFAULT_IDLE_TIMEOUT_MS = 60_000;
    /** 10,000 open connections (fewer if the file-descriptor limit leaves fewer). */
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    /** 1,000 connections from one address: far above a pipeline node's pool, far below the whole cap. */
    public static final int DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 1_000;
    /** Long polls wait at most 20 s, under common proxy idle timeouts. */
    public static final long DEFAULT_MAX_WAIT_SECONDS = 20;
    /** A message leased 5 times without an ack is presumed poison and dead-lettered. */
    public static final int DEFAULT_MAX_DELIVERIES = 5;
    /** Leases last 30 s unless the caller asks otherwise (renew for longer jobs). */
    public static final long DEFAULT_VISIBILITY_SECONDS = 30;
    /** Full bodies, as the seed logged; truncate or omit when messages are large or sensitive. */
    public static final BrokerConfig.AuditBody DEFAULT_AUDIT_BODY = BrokerConfig.AuditBody.FULL;
    public static final int DEFAULT_AUDIT_BODY_MAX_CHARS = 1024;
    /** 100 MiB a file: about 200,000 requests with bodies, minutes of full load. */
    public static final long DEFAULT_AUDIT_MAX_FILE_BYTES = 100L << 20;
    /** 10 rotated files kept: with the current one, the audit log never takes more than 1.1 GiB. */
    public static final int DEFAULT_AUDIT_MAX_FILES = 10;
    /**
     * 64 MiB of events waiting for the audit writer: seconds of full-body pushes at full rate, and a bound the heap
     * keeps whatever the disk or the senders do; one event takes at most 1 MiB of it (a larger body is truncated).
     */
    public static final long DEFAULT_AUDIT_MAX_BUFFER_BYTES = 64L << 20;

    /** 30 s for a whole request body after its head: a 16 MiB batch needs only 0.6 MB/s. */
    public static final long DEFAULT_BODY_TIMEOUT_MS = 30_000;
    /** 16 KiB of request line and headers, as common gateways allow. */
    public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;

    /** {@code server.trusted_proxies}: a list of CIDRs (or single addresses); absent: none. */
    private static java.util.List<Cidr> trustedProxies(Object value) {
        if (value == null) {
            return java.util.List.of();
        }
        if (!(value instanceof java.util.List<?> list)) {
            throw new ConfigException("server.trusted_proxies must be a list of CIDRs such as [10.0.0.0/8, "
                    + "\"fd00::/8\"], was " + value);
        }
        java.util.List<Cidr> out = new java.util.ArrayList<>();
        for (Object o : list) {
            try {
                out.add(Cidr.parse(String.valueOf(o)));
            } catch (IllegalArgumentException bad) {
                throw new ConfigException("server.trusted_proxies: " + bad.getMessage());
            }
        }
        return out;
    }

    private static final Map<String, Set<String>> KEYS = Map.of(
            "QueueManager", Set.of("path", "max_length", "save_period_time"),
            "server", Set.of("host", "port", "io_threads", "worker_threads", "max_message_bytes", "max_batch_messages", "max_batch_bytes",
                    "max_wait_seconds", "request_head_timeout_ms", "idle_timeout_ms",
                    "max_connections", "max_connections_per_address", "body_timeout_ms", "max_header_bytes",
                    "trusted_proxies", "tls"),
            "queues", Set.of("max_deliveries", "visibility_seconds", "idempotency_window_seconds",
                    "max_visibility_seconds"),
            "auth", Set.of("users_file", "tokens_file", "token_ttl_seconds"),
            "audit", Set.of("enabled", "file", "body", "body_max_chars", "max_file_bytes", "max_files", "compress",
                    "max_buffer_bytes"),
            "storage", Set.of("backend", "fsync", "fsync_interval_ms", "min_free_bytes"),
            "retention", Set.of("max_age", "max_bytes"),
            "kafka", Set.of("bootstrap_servers", "client", "replication_factor", "min_insync_replicas", "lock_duration_ms",
                    "max_poll_records", "prefetch_hold_ms", "consumer_idle_ms", "max_delivery_limit",
                    "max_keys_in_memory"),
            "node", Set.of("id", "advertised_url"),
            "metrics", Set.of("enabled", "bearer_token"));

    private ConfigLoader() {
    }

    public static BrokerConfig load(Path file) {
        return load(file, Map.of());
    }

    /**
     * Loads {@code file} (null: no file, every key at its default, relative paths against the working folder) and
     * then applies {@code overrides}, keyed {@code section.key} (command-line options and environment variables).
     * Duplicate keys in the file are an error.
     */
    public static BrokerConfig load(Path file, Map<String, Object> overrides) {
        Object root = null;
        Path base = Path.of("").toAbsolutePath();
        if (file != null) {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                root = new Yaml(new SafeConstructor(options)).load(r);
            } catch (IOException e) {
                throw new ConfigException("cannot read config file " + file + ": " + e);
            } catch (RuntimeException e) {
                throw new ConfigException("config file " + file + " is not valid YAML: " + e.getMessage());
            }
            base = file.toAbsolutePath().getParent();
        }
        Map<String, Map<Object, Object>> merged = new java.util.LinkedHashMap<>();
        for (Map.Entry<?, ?> e : (root == null ? Map.of() : asMap(root, "(top level)")).entrySet()) {
            merged.put(String.valueOf(e.getKey()), new java.util.LinkedHashMap<>(asMap(e.getValue(), String.valueOf(e.getKey()))));
        }
        for (Map.Entry<String, Object> o : overrides.entrySet()) {
            int dot = o.getKey().indexOf('.');
            merged.computeIfAbsent(o.getKey().substring(0, dot), k -> new java.util.LinkedHashMap<>())
                    .put(o.getKey().substring(dot + 1), o.getValue());
        }
        return parse(merged, base, file == null ? null : file.toAbsolutePath());
    }

    static BrokerConfig parse(Map<?, ?> root, Path base, Path source) {
        for (Map.Entry<?, ?> e : root.entrySet()) {
            String section = String.valueOf(e.getKey());
            Set<String> allowed = KEYS.get(section);
            if (allowed == null) {
                throw new ConfigException("unknown config key '" + section + "' (known: " + KEYS.keySet() + ")");
            }
            for (Object key : asMap(e.getValue(), section).keySet()) {
                if (!allowed.contains(String.valueOf(key))) {
                    throw new ConfigException("unknown config key '" + section + "." + key + "' (known in "
                            + section + ": " + allowed + ")");
                }
            }
        }
        Section qm = new Section(root, "QueueManager");
        Section server = new Section(root, "server");
        Section auth = new Section(root, "auth");
        Section audit = new Section(root, "audit");
        Section storage = new Section(root, "storage");
        Section queues = new Section(root, "queues");
        Section metrics = new Section(root, "metrics");
        String metricsToken = metrics.string("bearer_token", "");
        BrokerConfig.Tls tls = tls(asMap(root.get("server"), "server").get("tls"), base);
        return new BrokerConfig(
                new BrokerConfig.QueueManager(base.resolve(qm.string("path", "data/queues.json")),
                        qm.integer("max_length", DEFAULT_MAX_LENGTH),
                        qm.integer("save_period_time", StoreConfig.DEFAULT_CHECKPOINT_PERIOD.toSeconds())),
                new BrokerConfig.Server(server.string("host", DEFAULT_HOST),
                        (int) server.integer("port", DEFAULT_PORT),
                        (int) server.integer("io_threads", DEFAULT_IO_THREADS),
                        (int) server.integer("worker_threads", DEFAULT_WORKER_THREADS),
                        (int) server.integer("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES),
                        (int) server.integer("max_batch_messages", DEFAULT_MAX_BATCH_MESSAGES),
                        (int) server.integer("max_batch_bytes", DEFAULT_MAX_BATCH_BYTES),
                        server.integer("max_wait_seconds", DEFAULT_MAX_WAIT_SECONDS),
                        server.integer("request_head_timeout_ms", DEFAULT_REQUEST_HEAD_TIMEOUT_MS),
                        server.integer("idle_timeout_ms", DEFAULT_IDLE_TIMEOUT_MS),
                        (int) server.integer("max_connections", DEFAULT_MAX_CONNECTIONS),
                        (int) server.integer("max_connections_per_address", DEFAULT_MAX_CONNECTIONS_PER_ADDRESS),
                        server.integer("body_timeout_ms", DEFAULT_BODY_TIMEOUT_MS),
                        (int) server.integer("max_header_bytes", DEFAULT_MAX_HEADER_BYTES),
                        trustedProxies(asMap(root.get("server"), "server").get("trusted_proxies")),
                        tls),
                new BrokerConfig.Auth(base.resolve(auth.string("users_file", "users.yaml")),
                        base.resolve(auth.string("tokens_file", "data/tokens.json")),
                        auth.integer("token_ttl_seconds", DEFAULT_TOKEN_TTL_SECONDS)),
                new BrokerConfig.Audit(audit.bool("enabled", true),
                        base.resolve(audit.string("file", "message_queue.log")),
                        audit.choice("body", BrokerConfig.AuditBody.class, DEFAULT_AUDIT_BODY),
                        (int) audit.integer("body_max_chars", DEFAULT_AUDIT_BODY_MAX_CHARS),
                        audit.integer("max_file_bytes", DEFAULT_AUDIT_MAX_FILE_BYTES),
                        (int) audit.integer("max_files", DEFAULT_AUDIT_MAX_FILES),
                        audit.compression("compress"),
                        audit.integer("max_buffer_bytes", DEFAULT_AUDIT_MAX_BUFFER_BYTES)),
                new BrokerConfig.Queues((int) queues.integer("max_deliveries", DEFAULT_MAX_DELIVERIES),
                        queues.integer("visibility_seconds", DEFAULT_VISIBILITY_SECONDS),
                        queues.integer("idempotency_window_seconds",
                                StoreConfig.DEFAULT_IDEMPOTENCY_WINDOW.toSeconds()),
                        queues.integer("max_visibility_seconds", 43_200)),
                new BrokerConfig.Storage(storage.choice("fsync", Fsync.class, StoreConfig.DEFAULT_FSYNC),
                        storage.integer("fsync_interval_ms", StoreConfig.DEFAULT_FSYNC_INTERVAL.toMillis()),
                        storage.integer("min_free_bytes", StoreConfig.DEFAULT_MIN_FREE_BYTES),
                        new Section(root, "retention").seconds("max_age"), new Section(root, "retention").bytes("max_bytes")),
                new BrokerConfig.Metrics(metrics.bool("enabled", true), metricsToken.isEmpty() ? null : metricsToken),
                kafka(root, storage, server),
                source);
    }

    /** {@code storage.backend: kafka} with its {@code kafka.*} and {@code node.*} keys, or null for chronicle. */
    private static BrokerConfig.Kafka kafka(Map<?, ?> root, Section storage, Section server) {
        String backend = storage.string("backend", "chronicle");
        Section k = new Section(root, "kafka");
        Section node = new Section(root, "node");
        if (backend.equals("chronicle")) {
            if (root.get("kafka") != null) {
                throw new ConfigException("kafka.* is set but storage.backend is chronicle; set storage.backend: kafka");
            }
            return null;
        }
        if (!backend.equals("kafka")) {
            throw new ConfigException("storage.backend must be chronicle or kafka, was '" + backend + "'");
        }
        // Keys that mean nothing on Kafka are refused rather than accepted and ignored.
        for (String key : List.of("fsync", "fsync_interval_ms")) {
            if (storage.has(key)) {
                throw new ConfigException("storage." + key + " does not apply to storage.backend: kafka (a push is "
                        + "answered once min.insync.replicas brokers hold it, acks=all; the brokers' own flush settings "
                        + "decide when it reaches their disks): remove it");
            }
        }
        Section retention = new Section(root, "retention");
        if (retention.seconds("max_age") > 0 || retention.bytes("max_bytes") > 0) {
            throw new ConfigException("retention.max_age and retention.max_bytes bound named subscriptions, which "
                    + "storage.backend: kafka does not offer in this release: remove them (or set them to 0)");
        }
        Section queues = new Section(root, "queues");
        if (queues.has("max_deliveries") && queues.integer("max_deliveries", 0) == 0) {
            throw new ConfigException("queues.max_deliveries: 0 (never dead-letter) cannot be honoured with "
                    + "storage.backend: kafka, whose share groups hand a message out at most kafka.max_delivery_limit "
                    + "times: set 2 to 25");
        }
        String bootstrap = k.string("bootstrap_servers", null);
        if (bootstrap == null) {
            throw new ConfigException("storage.backend: kafka needs kafka.bootstrap_servers (host:port,host:port,...)");
        }
        Map<String, String> client = new java.util.LinkedHashMap<>();
        Object c = root.get("kafka") instanceof Map<?, ?> km ? km.get("client") : null;
        if (c != null) {
            for (Map.Entry<?, ?> e : asMap(c, "kafka.client").entrySet()) {
                client.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
            }
        }
        String host = server.string("host", DEFAULT_HOST);
        long port = server.integer("port", DEFAULT_PORT);
        String id = node.string("id", (reachableHost(host) + "-" + port).replaceAll("[^A-Za-z0-9_-]", "-"));
        String advertised = node.string("advertised_url", null);
        if (advertised != null && !advertised.matches("https?://[^/?#\\s]+")) {
            throw new IllegalArgumentException("node.advertised_url must be http://host:port or https://host:port"
                    + " (how other nodes reach this one), was '" + advertised + "'");
        }
        return new BrokerConfig.Kafka(bootstrap, Map.copyOf(client), (int) k.integer("replication_factor", 3),
                (int) k.integer("min_insync_replicas", 2), k.integer("lock_duration_ms", 30_000),
                (int) k.integer("max_poll_records", dev.spool.storage.kafka.KafkaSettings.DEFAULT_MAX_POLL_RECORDS),
                k.integer("prefetch_hold_ms", 2_000),
                k.integer("consumer_idle_ms", 60_000), (int) k.integer("max_delivery_limit", 25), id,
                advertised, (int) k.integer("max_keys_in_memory",
                        dev.spool.storage.kafka.KafkaSettings.DEFAULT_MAX_KEYS_IN_MEMORY));
    }

    /** The host other machines reach this one by: the host itself, or this machine's name for a wildcard. */
    public static String reachableHost(String host) {
        if (!host.equals("0.0.0.0") && !host.equals("::") && !host.isEmpty()) {
            return host;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }

    /** The default HTTPS port. */
    public static final int DEFAULT_TLS_PORT = 7443;
    /** Where the keystore password comes from when {@code server.tls.password} is not in the file. */
    public static final String TLS_PASSWORD_ENV = "SPOOL_TLS_PASSWORD";
    private static final Set<String> TLS_KEYS = Set.of("keystore", "password", "port", "plain_http");

    /** {@code server.tls}, or null when it is absent. */
    private static BrokerConfig.Tls tls(Object value, Path base) {
        if (value == null) {
            return null;
        }
        Map<?, ?> m = asMap(value, "server.tls");
        for (Object key : m.keySet()) {
            if (!TLS_KEYS.contains(String.valueOf(key))) {
                throw new ConfigException("unknown config key 'server.tls." + key + "' (known in server.tls: " + TLS_KEYS + ")");
            }
        }
        Section t = new Section("server.tls", m);
        String keystore = t.string("keystore", null);
        if (keystore == null) {
            throw new ConfigException("server.tls needs keystore (a PKCS12 file)");
        }
        String password = t.string("password", System.getenv(TLS_PASSWORD_ENV));
        if (password == null) {
            throw new ConfigException("server.tls needs the keystore's password: server.tls.password or the "
                    + TLS_PASSWORD_ENV + " environment variable");
        }
        return new BrokerConfig.Tls(base.resolve(keystore), password, (int) t.integer("port", DEFAULT_TLS_PORT),
                t.bool("plain_http", false));
    }

    private static Map<?, ?> asMap(Object o, String where) {
        if (o == null) {
            return Map.of();
        }
        if (!(o instanceof Map<?, ?> m)) {
            throw new ConfigException("config key '" + where + "' must be a mapping, was " + o);
        }
        return m;
    }

    /** One section's values with typed accessors that name the key on error. */
    private static final class Section {
        private final String name;
        private final Map<?, ?> values;

        Section(Map<?, ?> root, String name) {
            this.name = name;
            this.values = asMap(root.get(name), name);
        }

        /** A section nested in another ({@code server.tls}): {@code values} are its own, {@code name} its full name. */
        Section(String name, Map<?, ?> values) {
            this.name = name;
            this.values = values;
        }

        boolean has(String key) {
            return values.get(key) != null;
        }

        String string(String key, String dflt) {
            Object v = values.get(key);
            if (v == null) {
                return dflt;
            }
            if (!(v instanceof String s) || s.isBlank()) {
                throw bad(key, v, "a non-empty string");
            }
            return s;
        }

        long integer(String key, long dflt) {
            Object v = values.get(key);
            if (v == null) {
                return dflt;
            }
            if (v instanceof Integer || v instanceof Long) {
                long n = ((Number) v).longValue();
                if (n > Integer.MAX_VALUE && !key.equals("max_length") && !key.endsWith("_seconds")
                        && !key.equals("min_free_bytes") && !key.equals("max_file_bytes")) {
                    throw bad(key, v, "an integer up to " + Integer.MAX_VALUE);
                }
                return n;
            }
            throw bad(key, v, "an integer");
        }

        /** A duration in seconds ({@link Units#seconds}); absent: 0. */
        long seconds(String key) {
            try {
                return Units.seconds(values.get(key));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw bad(key, values.get(key), e instanceof ArithmeticException ? "a shorter duration" : e.getMessage());
            }
        }

        /** A size in bytes ({@link Units#bytes}); absent: 0. */
        long bytes(String key) {
            try {
                return Units.bytes(values.get(key));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw bad(key, values.get(key), e instanceof ArithmeticException ? "a smaller size" : e.getMessage());
            }
        }

        boolean bool(String key, boolean dflt) {
            Object v = values.get(key);
            if (v == null) {
                return dflt;
            }
            if (v instanceof Boolean b) {
                return b;
            }
            throw bad(key, v, "true or false");
        }

        /** {@code audit.compress}: true (zstd where installed, else gzip), false, zstd or gzip. */
        BrokerConfig.AuditCompress compression(String key) {
            Object v = values.get(key);
            if (v == null || Boolean.TRUE.equals(v)) {
                return BrokerConfig.AuditCompress.AUTO;
            }
            if (Boolean.FALSE.equals(v)) {
                return BrokerConfig.AuditCompress.NONE;
            }
            return switch (String.valueOf(v).toLowerCase(Locale.ROOT)) {
                case "zstd" -> BrokerConfig.AuditCompress.ZSTD;
                case "gzip" -> BrokerConfig.AuditCompress.GZIP;
                default -> throw bad(key, v, "true, false, zstd or gzip");
            };
        }

        <E extends Enum<E>> E choice(String key, Class<E> type, E dflt) {
            Object v = values.get(key);
            if (v == null) {
                return dflt;
            }
            try {
                return Enum.valueOf(type, String.valueOf(v).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                StringBuilder allowed = new StringBuilder();
                for (E c : type.getEnumConstants()) {
                    allowed.append(allowed.length() == 0 ? "" : ", ").append(c.name().toLowerCase(Locale.ROOT));
                }
                throw bad(key, v, "one of " + allowed);
            }
        }

        private ConfigException bad(String key, Object v, String expected) {
            return new ConfigException("config key '" + name + "." + key + "' must be " + expected + ", was '"
                    + v + "'");
        }
    }
}
