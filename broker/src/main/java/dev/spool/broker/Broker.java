package dev.spool.broker;

import dev.spool.broker.audit.AuditLog;
import dev.spool.broker.auth.LoginGuard;
import dev.spool.broker.auth.TokenService;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.ConfigLoader;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.http.Api;
import dev.spool.broker.http.cluster.LeaseForwarder;
import dev.spool.broker.http.Health;
import dev.spool.broker.metrics.Metrics;
import dev.spool.broker.http.net.Connections;
import dev.spool.broker.http.net.HttpServer;
import dev.spool.broker.http.StartupGate;
import dev.spool.broker.http.Waiters;
import dev.spool.broker.http.Problems;
import dev.spool.broker.http.Routes;
import dev.spool.storage.QueueStore;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import io.undertow.server.handlers.GracefulShutdownHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** A running broker: store, auth, audit and the HTTP server, wired by constructors. */
public final class Broker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);

    private final QueueStore store;
    private final AuditLog audit;
    private final HttpServer server;
    private final GracefulShutdownHandler graceful;
    private final Waiters waiters;
    private final Health health;
    private final List<String> routes;
    private final ScheduledExecutorService usersWatch = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "spool-users-watch");
        t.setDaemon(true);
        return t;
    });
    private boolean closed;

    private Broker(QueueStore store, AuditLog audit, HttpServer server, GracefulShutdownHandler graceful,
                   Waiters waiters, Health health, List<String> routes) {
        this.routes = routes;
        this.health = health;
        this.waiters = waiters;
        this.store = store;
        this.audit = audit;
        this.server = server;
        this.graceful = graceful;
    }

    /**
     * Starts a broker. On a first start without a users file, creates {@code admin} with a random
     * password and prints it once to {@code console}.
     *
     * @throws BindException  if the port cannot be bound (the message names it); nothing was opened
     * @throws StoreException {@link StoreException.Code#LOCKED} if another process holds the data folder
     */
    public static Broker start(BrokerConfig config, PrintStream console) throws IOException {
        return start(config, console, Clock.systemUTC());
    }

    /** As {@link #start(BrokerConfig, PrintStream)} with a clock for token expiry and audit times. */
    public static Broker start(BrokerConfig config, PrintStream console, Clock clock) throws IOException {
        return start(config, console, clock, StoreConfig.SyncDelay.NONE);
    }

    /** As {@link #start(BrokerConfig, PrintStream, Clock)} with every store sync slowed down (tests of slow disks). */
    static Broker start(BrokerConfig config, PrintStream console, Clock clock, StoreConfig.SyncDelay syncDelay)
            throws IOException {
        // The ports are bound first, and accept only once the rest is ready (a client connecting meanwhile waits in
        // the listen backlog; the gate answers 503 should a request arrive early): a port in use is then found
        // before the data folder is locked or the users file created, so a refused start touches nothing.
        // (Checking with a throwaway ServerSocket instead would leave a window in which the port is taken.)
        StartupGate gate = new StartupGate();
        HttpServer server = HttpServer.start(config, gate, Problems.networkAnswers());
        QueueStore store = null;
        AuditLog audit = null;
        try {
            StoreConfig storeConfig = StoreConfig.defaults(config.queueManager().checkpointFile())
                    .withCheckpointPeriod(Duration.ofSeconds(config.queueManager().savePeriodSeconds()))
                    .withFsync(config.storage().fsync(), Duration.ofMillis(config.storage().fsyncIntervalMs()))
                    .withRollCycle(StoreConfig.DEFAULT_ROLL_CYCLE, clock)
                    .withIdempotencyWindow(Duration.ofSeconds(config.queues().idempotencyWindowSeconds()))
                    .withSyncDelay(syncDelay)
                    .withMinFreeBytes(config.storage().minFreeBytes())
                    .withRetention(new StoreConfig.Retention(Duration.ofSeconds(config.storage().retentionMaxAgeSeconds()),
                            config.storage().retentionMaxBytes()));
            Metrics metrics = config.metrics().enabled() ? new Metrics() : null;
            if (metrics != null) {
                storeConfig = storeConfig.withObserver(metrics);
            }
            Backend backend = Backend.of(config);
            // The store before the users and tokens files: its folder lock keeps a second broker out of them.
            store = backend.openStore(storeConfig, server);
            UserStore users = backend.users(store);
            if (!users.exists()) {
                String password = users.createInitialAdmin();
                console.println((users.isShared() ? "Created the cluster's first user 'admin'"
                        : "Created users file " + config.auth().usersFile() + " with user 'admin'") + ", password: " + password);
                String cli = "java -jar " + jarPath() + " user add NAME --role AGENT"
                        + (config.source() == null ? "" : " --config " + config.source());
                console.println("This password is shown once. Add users with:");
                console.println("  " + cli + "                  (asks for the password)");
                console.println("  printf '%s\\n' \"$PASSWORD\" | " + cli + "   (reads it from standard input)");
                console.flush();
            }
            Duration ttl = Duration.ofSeconds(config.auth().tokenTtlSeconds());
            TokenService tokens = backend.sessions(store, ttl, clock);
            int dropped = tokens.followUsers(users);
            if (dropped > 0) {
                LOG.info("{} sessions of users deleted or changed while the broker was stopped were dropped", dropped);
            }
            audit = new AuditLog(config.audit().file(), config.audit().maxFileBytes(), config.audit().maxFiles(),
                    config.audit().compress(), config.audit().maxBufferBytes());
            Waiters waiters = new Waiters();
            store.subscribe(waiters::signal);
            Api api = new Api(store, tokens, users, new LoginGuard(clock), config, waiters, clock,
                    new LeaseForwarder(config.server().tls()));
            Health health = new Health(backend.disk(storeConfig), config.storage().minFreeBytes(), config.audit().enabled() ? audit : null,
                    store::failedQueues, backend instanceof Backend.Cluster ? store::engineProblem : null);
            if (metrics != null) {
                register(metrics, store, waiters, audit, server, health);
            }
            List<String> routes = new ArrayList<>();
            GracefulShutdownHandler graceful = new GracefulShutdownHandler(
                    Routes.build(api, audit, health, metrics, config, clock, routes));
            gate.open(graceful);
            server.open();
            Broker b = new Broker(store, audit, server, graceful, waiters, health, List.copyOf(routes));
            b.watchUsers(users, tokens);
            if (server.tlsPort() >= 0) {
                LOG.info("Spool broker listening on https://{}:{}", config.server().host(), server.tlsPort());
            }
            if (server.servesPlain()) {
                LOG.info("Spool broker listening on http://{}:{}", config.server().host(), b.port());
            }
            return b;
        } catch (RuntimeException | IOException e) {
            server.close();
            if (store != null) {
                store.close();
            }
            if (audit != null) {
                audit.close();
            }
            throw e;
        }
    }

    /** The figures read at each scrape, besides request counts and the store's syncs. */
    private static void register(Metrics m, QueueStore store, Waiters waiters, AuditLog audit, HttpServer server,
                                 Health health) {
        m.queues(store, waiters::waiting);
        m.counter("spool_audit_events_written_total", "Audit lines written", audit::written);
        m.counter("spool_audit_events_dropped_total", "Audit events dropped because the writer fell behind",
                audit::dropped);
        m.counter("spool_audit_written_bytes_total", "Bytes written to the audit log", audit::bytesWritten);
        m.gauge("spool_http_connections", "Open client connections", () -> server.connections().open());
        m.counter("spool_http_connections_accepted_total", "Client connections accepted, admitted or not",
                () -> server.connections().accepted());
        m.counter("spool_http_connections_evicted_total",
                "Connections closed to make room at server.max_connections", () -> server.connections().evicted());
        m.gauge("spool_disk_free_bytes", "Free bytes on the data disk", health::freeBytes);
    }

    /**
     * Notices another process's change to the users file ({@code user add} while the broker runs) within a
     * second, and revokes the tokens of users removed or changed there.
     */
    private void watchUsers(UserStore users, TokenService tokens) {
        usersWatch.scheduleWithFixedDelay(() -> {
            try {
                for (String u : users.reloadIfChanged()) {
                    int n = tokens.revokeUser(u);
                    LOG.info("user '{}' changed in the users file; {} of its tokens revoked", u, n);
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("users file changed but cannot be read (keeping the users known so far): {}", e.toString());
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    /** This broker's jar, for the commands it prints. */
    private static String jarPath() {
        try {
            Path p = Path.of(Broker.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return p.toString().endsWith(".jar") ? p.toString() : "spool-broker.jar";
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return "spool-broker.jar";
        }
    }

    /** The audit log (tests stop its writer). */
    AuditLog audit() {
        return audit;
    }

    /** Every route, as {@code "METHOD /template"} (the OpenAPI test holds the document to it). */
    List<String> routes() {
        return routes;
    }

    /** The HTTPS port, or -1 without {@code server.tls}. */
    public int tlsPort() {
        return server.tlsPort();
    }

    /** The connection caps and their counts (tests). */
    Connections connections() {
        return server.connections();
    }

    /** The port the server listens on (useful with {@code server.port: 0}). */
    public int port() {
        return server.port();
    }

    /** Finishes in-flight requests (up to 5 s), stops the server, writes a final checkpoint. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        health.stopping();
        // Not shutdownNow: interrupting a revocation would close the tokens log's channel under it.
        usersWatch.shutdown();
        try {
            usersWatch.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        graceful.shutdown();
        waiters.endAll();
        try {
            if (!graceful.awaitShutdown(5_000)) {
                LOG.warn("requests still in flight after 5 s; stopping anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
        store.close();
        audit.close();
        LOG.info("Spool broker stopped; checkpoint written");
    }
}
