package dev.spool.broker.http;

import dev.spool.broker.audit.AuditHandler;
import dev.spool.broker.audit.AuditLog;
import dev.spool.broker.auth.Role;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.http.net.GuardedConnection;
import dev.spool.broker.metrics.HttpMetrics;
import dev.spool.broker.metrics.Metrics;
import dev.spool.storage.Settlement;
import io.undertow.server.HttpHandler;
import io.undertow.server.RoutingHandler;
import io.undertow.server.handlers.RequestLimit;

import java.time.Clock;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The API table: every route with the roles it needs and the thread it runs on. {@link #io} routes run
 * on the connection's IO thread: they parse and call the store's calls that never wait for the disk
 * (their answers wait for group commits without holding a thread). {@link #worker} routes may wait (slow
 * hashing, creating or deleting folders with fsyncs, walking files for stats) and run on a worker thread, once
 * their token is checked and their whole body received on the IO thread: a client sending slowly holds no worker.
 * Routes open to anyone ({@link Table#open}) may together hold at most half the workers; more wait, holding no
 * thread, in a bounded line, and beyond it are refused with 503.
 */
public final class Routes {
    private static final Set<Role> ANYONE_SIGNED_IN = EnumSet.allOf(Role.class);
    private static final Set<Role> ADMIN = EnumSet.of(Role.ADMINISTRATOR);
    private static final Set<Role> PUSHERS = EnumSet.of(Role.AGENT, Role.SECRETARY, Role.ADMINISTRATOR);
    private static final Set<Role> PULLERS = EnumSet.of(Role.AGENT, Role.ADMINISTRATOR);

    /** Largest body of a request anyone may send (a login): a sign-in is a name and a password. */
    static final int MAX_OPEN_BODY_BYTES = 16 * 1024;
    /** Requests to open routes waiting for a worker at most; beyond it they are refused with 503. */
    static final int OPEN_QUEUE = 256;

    private Routes() {
    }

    /**
     * The root handler: request metrics (when on), audit, then errors as problem details, then the routes.
     *
     * @param metrics the metrics registry, or null when {@code metrics.enabled} is false
     */
    public static HttpHandler build(Api api, AuditLog audit, Health health, Metrics metrics, BrokerConfig config,
                                    Clock clock) {
        return build(api, audit, health, metrics, config, clock, new java.util.ArrayList<>());
    }

    /** As above, adding {@code "METHOD /template"} of every route to {@code declared} (the OpenAPI test reads it). */
    public static HttpHandler build(Api api, AuditLog audit, Health health, Metrics metrics, BrokerConfig config,
                                    Clock clock, java.util.List<String> declared) {
        Table t = new Table(metrics, declared, config.server().workerThreads(), api.maxMessageBytes());
        t.add("POST", "/login", t.open(new LoginHandler(api)));
        t.add("POST", "/logout", secured(api, ANYONE_SIGNED_IN, t.worker(new LogoutHandler(api))));
        t.add("GET", "/queues", io(secured(api, ANYONE_SIGNED_IN, new ListQueuesHandler(api))));
        t.add("GET", "/queues/{name}", secured(api, ANYONE_SIGNED_IN, t.worker(new QueueStatsHandler(api))));
        t.add("POST", "/queues/{name}", secured(api, ADMIN, t.worker(new CreateQueueHandler(api))));
        t.add("DELETE", "/queues/{name}", secured(api, ADMIN, t.worker(new DeleteQueueHandler(api))));
        t.add("POST", "/queues/{name}/messages", io(secured(api, PUSHERS, new PushHandler(api))));
        t.add("GET", "/queues/{name}/messages/first", io(secured(api, PULLERS, new PullFirstHandler(api))));
        t.add("POST", "/queues/{name}/messages/batch", io(secured(api, PUSHERS, new BatchPushHandler(api))));
        t.add("GET", "/queues/{name}/messages", io(secured(api, PULLERS, new PullBatchHandler(api))));
        t.add("POST", "/queues/{name}/leases", io(secured(api, PULLERS, new LeaseHandler(api))));
        SettleForwarding forwarder = api.forwarding();
        t.add("POST", "/queues/{name}/acks", io(secured(api, PULLERS, new SettleHandler(api, Settlement.ACK, forwarder))));
        t.add("POST", "/queues/{name}/nacks", io(secured(api, PULLERS, new SettleHandler(api, Settlement.NACK, forwarder))));
        t.add("POST", "/queues/{name}/renewals", io(secured(api, PULLERS,
                new SettleHandler(api, Settlement.RENEW, forwarder))));
        t.add("POST", "/queues/{name}/redrive", secured(api, ADMIN, t.worker(new RedriveHandler(api))));
        // Named subscriptions: the queue's consuming routes again under /subscriptions/{sub}, with the same bodies.
        String sub = "/queues/{name}/subscriptions/{sub}";
        SubscriptionsHandler subs = new SubscriptionsHandler(api);
        t.add("GET", "/queues/{name}/subscriptions", secured(api, ANYONE_SIGNED_IN, t.worker(subs::list)));
        t.add("GET", sub, secured(api, ANYONE_SIGNED_IN, t.worker(subs::show)));
        t.add("POST", sub, secured(api, ADMIN, t.worker(subs::create)));
        t.add("DELETE", sub, secured(api, ADMIN, t.worker(subs::delete)));
        t.add("POST", sub + "/seek", secured(api, ADMIN, t.worker(subs::seek)));
        t.add("POST", sub + "/pause", secured(api, ADMIN, t.worker(subs::pause)));
        t.add("POST", sub + "/resume", secured(api, ADMIN, t.worker(subs::resume)));
        t.add("POST", sub + "/redrive", secured(api, ADMIN, t.worker(subs::redrive)));
        t.add("GET", sub + "/messages/first", io(secured(api, PULLERS, new PullFirstHandler(api))));
        t.add("GET", sub + "/messages", io(secured(api, PULLERS, new PullBatchHandler(api))));
        t.add("POST", sub + "/leases", io(secured(api, PULLERS, new LeaseHandler(api))));
        t.add("POST", sub + "/acks", io(secured(api, PULLERS, new SettleHandler(api, Settlement.ACK, forwarder))));
        t.add("POST", sub + "/nacks", io(secured(api, PULLERS, new SettleHandler(api, Settlement.NACK, forwarder))));
        t.add("POST", sub + "/renewals", io(secured(api, PULLERS, new SettleHandler(api, Settlement.RENEW, forwarder))));
        UsersHandler users = new UsersHandler(api);
        t.add("GET", "/users", secured(api, ADMIN, t.worker(users::list)));
        t.add("POST", "/users/{name}", secured(api, ADMIN, t.worker(users::create)));
        t.add("DELETE", "/users/{name}", secured(api, ADMIN, t.worker(users::delete)));
        t.add("PUT", "/users/{name}/password", secured(api, ADMIN, t.worker(users::changePassword)));
        t.add("GET", "/health", io(ex -> Json.send(ex, 200, Map.of("status", "ok"))));
        t.add("GET", "/health/live", io(health::live));
        t.add("GET", "/health/ready", t.open(health::ready));
        if (metrics != null) {
            t.add("GET", "/metrics", t.open(new MetricsHandler(metrics, config.metrics().bearerToken())));
        }
        t.add("GET", "/openapi.yaml", io(OpenApi::send));
        t.add("GET", "/overview", secured(api, ANYONE_SIGNED_IN,
                t.worker(new OverviewHandler(api, health, config.audit().enabled() ? audit : null, metrics))));
        t.add("GET", "/", io(Ui::page));
        t.add("GET", "/ui/{file}", io(Ui::file));
        RoutingHandler r = t.routing
                .setFallbackHandler(ex -> {
                    throw new ApiException(ErrorCode.ROUTE_NOT_FOUND, "no route for " + ex.getRequestPath());
                })
                .setInvalidMethodHandler(ex -> {
                    throw new ApiException(ErrorCode.METHOD_NOT_ALLOWED, ex.getRequestMethod() + " is not allowed on "
                            + ex.getRequestPath());
                });
        HttpHandler root = new ErrorBoundary(tracking(r));
        HttpHandler audited = config.audit().enabled()
                ? new AuditHandler(audit, config.audit().body(), config.audit().bodyMaxChars(), audit.maxEventBytes(), clock,
                root) : root;
        return metrics == null ? audited : metrics.http().measure(audited);
    }

    /** The route table under construction; each route is tagged for request metrics when they are on. */
    private static final class Table {
        final RoutingHandler routing = new RoutingHandler(false);
        private final Metrics metrics;
        private final java.util.List<String> declared;
        /** The share of the workers requests to open routes may hold together. */
        private final RequestLimit openShare;
        private final int maxBody;

        Table(Metrics metrics, java.util.List<String> declared, int workers, int maxBody) {
            this.metrics = metrics;
            this.declared = declared;
            this.maxBody = maxBody;
            this.openShare = new RequestLimit(Math.max(1, workers / 2), OPEN_QUEUE);
            openShare.setFailureHandler(ex -> Problems.send(ex, new ApiException(ErrorCode.UNAVAILABLE,
                    "too many requests without a token are waiting for the broker's workers; retry", 1)));
        }

        /** Runs on a worker thread, once the body (at most the route's largest) is received on the IO thread. */
        HttpHandler worker(HttpHandler h) {
            HttpHandler onWorker = dispatched(h);
            return ex -> Exchanges.receiveThen(ex, maxBody, onWorker);
        }

        /**
         * A route anyone may call without a token (login, readiness, metrics) that runs on a worker: its body is
         * received first (at most {@link #MAX_OPEN_BODY_BYTES}), then it takes one of the open routes' share of the
         * workers or waits for one holding no thread.
         */
        HttpHandler open(HttpHandler h) {
            HttpHandler onWorker = dispatched(h);
            HttpHandler limited = ex -> openShare.handleRequest(ex, onWorker);
            return ex -> Exchanges.receiveThen(ex, MAX_OPEN_BODY_BYTES, limited);
        }

        void add(String method, String template, HttpHandler h) {
            declared.add(method + " " + template);
            routing.add(method, template, metrics == null ? h : HttpMetrics.tag(metrics.http().route(method, template), h));
        }
    }

    /** Marks each request on its connection, and answers a connection over its address's cap (then closed). */
    private static HttpHandler tracking(HttpHandler routes) {
        return ex -> {
            GuardedConnection c = GuardedConnection.of(ex);
            if (c != null && !c.requestStarted(ex)) {
                ex.setPersistent(false);
                throw new ApiException(ErrorCode.TOO_MANY_CONNECTIONS, "too many connections from your address "
                        + "(server.max_connections_per_address); reuse a keep-alive connection", 1);
            }
            routes.handleRequest(ex);
        };
    }

    /** Runs on the IO thread that read the request. */
    private static HttpHandler io(HttpHandler h) {
        return h;
    }

    /** Runs on a worker thread: dispatched there from an IO thread, run at once on a worker. */
    private static HttpHandler dispatched(HttpHandler h) {
        HttpHandler bounded = new ErrorBoundary(h);
        return ex -> {
            if (ex.isInIoThread()) {
                ex.dispatch(bounded);
            } else {
                bounded.handleRequest(ex);
            }
        };
    }

    private static HttpHandler secured(Api api, Set<Role> roles, HttpHandler h) {
        return new Secured(api.tokens(), roles, h);
    }
}
