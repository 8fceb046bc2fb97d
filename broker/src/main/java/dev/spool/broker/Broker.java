package dev.spool.broker;

import dev.spool.broker.audit.AuditLog;
import dev.spool.broker.auth.LoginGuard;
import dev.spool.broker.auth.TokenService;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.http.Api;
import dev.spool.broker.http.Connections;
import dev.spool.broker.http.HttpServer;
import dev.spool.broker.http.MessageCodec;
import dev.spool.broker.http.StartupGate;
import dev.spool.broker.http.Waiters;
import dev.spool.broker.http.Routes;
import dev.spool.storage.JournalQueueStore;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import io.undertow.server.handlers.GracefulShutdownHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.time.Clock;
import java.time.Duration;

/** A running broker: store, auth, audit and the HTTP server, wired by constructors. */
public final class Broker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);

    private final JournalQueueStore store;
    private final AuditLog audit;
    private final HttpServer server;
    private final GracefulShutdownHandler graceful;
    private final Waiters waiters;
    private boolean closed;

    private Broker(JournalQueueStore store, AuditLog audit, HttpServer server, GracefulShutdownHandler graceful,
                   Waiters waiters) {
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
        // The listener comes first, answering 503 until the rest is ready: a port in use is then found
        // before the data folder is locked or the users file created, so a refused start touches nothing.
        // (Checking with a throwaway ServerSocket instead would leave a window in which the port is taken.)
        StartupGate gate = new StartupGate();
        HttpServer server = HttpServer.start(config, gate);
        JournalQueueStore store = null;
        AuditLog audit = null;
        try {
            StoreConfig storeConfig = StoreConfig.defaults(config.checkpointFile())
                    .withCheckpointPeriod(Duration.ofSeconds(config.savePeriodSeconds()))
                    .withFsync(config.fsync(), Duration.ofMillis(config.fsyncIntervalMs()))
                    .withRollCycle(StoreConfig.DEFAULT_ROLL_CYCLE, clock)
                    .withIdempotencyWindow(Duration.ofSeconds(config.idempotencyWindowSeconds()))
                    .withSyncDelay(syncDelay)
                    .withMinFreeBytes(config.minFreeBytes());
            // The store before the users and tokens files: its folder lock keeps a second broker out of them.
            store = JournalQueueStore.open(storeConfig, MessageCodec::deadLetter);
            UserStore users = UserStore.load(config.usersFile());
            if (!users.exists()) {
                String password = users.createInitialAdmin();
                console.println("Created users file " + config.usersFile() + " with user 'admin', password: " + password);
                console.println("This password is shown once; add users with: java -jar spool-broker.jar user add NAME --role ROLE");
                console.flush();
            }
            TokenService tokens = new TokenService(config.tokensFile(), Duration.ofSeconds(config.tokenTtlSeconds()), clock);
            audit = new AuditLog(config.auditFile());
            Waiters waiters = new Waiters();
            store.subscribe(waiters::signal);
            Api api = new Api(store, tokens, users, new LoginGuard(clock), config, waiters, clock);
            GracefulShutdownHandler graceful = new GracefulShutdownHandler(Routes.build(api, audit, config, clock));
            gate.open(graceful);
            Broker b = new Broker(store, audit, server, graceful, waiters);
            LOG.info("Spool broker listening on http://{}:{}", config.host(), b.port());
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
