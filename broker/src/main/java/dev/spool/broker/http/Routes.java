package dev.spool.broker.http;

import dev.spool.broker.audit.AuditHandler;
import dev.spool.broker.audit.AuditLog;
import dev.spool.broker.auth.Role;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.metrics.HttpMetrics;
import dev.spool.broker.metrics.Metrics;
import dev.spool.storage.Settlement;
import io.undertow.server.HttpHandler;
import io.undertow.server.RoutingHandler;

import java.time.Clock;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The API table: every route with the roles it needs and the thread it runs on. {@link #io} routes run
 * on the connection's IO thread: they parse and call the store's calls that never wait for the disk
 * (their answers wait for group commits without holding a thread). {@link #worker} routes may wait (slow
 * hashing, creating or deleting folders with fsyncs, walking files for stats) and run on a worker thread.
 */
public final class Routes {
    private static final Set<Role> ANYONE_SIGNED_IN = EnumSet.allOf(Role.class);
    private static final Set<Role> ADMIN = EnumSet.of(Role.ADMINISTRATOR);
    private static final Set<Role> PUSHERS = EnumSet.of(Role.AGENT, Role.SECRETARY, Role.ADMINISTRATOR);
    private static final Set<Role> PULLERS = EnumSet.of(Role.AGENT, Role.ADMINISTRATOR);

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
        Table t = new Table(metrics, declared);
        t.add("POST", "/login", worker(new LoginHandler(api)));
        t.add("POST", "/logout", worker(secured(api, ANYONE_SIGNED_IN, new LogoutHandler(api))));
        t.add("GET", "/queues", io(secured(api, ANYONE_SIGNED_IN, new ListQueuesHandler(api))));
        t.add("GET", "/queues/{name}", worker(secured(api, ANYONE_SIGNED_IN, new QueueStatsHandler(api))));
        t.add("POST", "/queues/{name}", worker(secured(api, ADMIN, new CreateQueueHandler(api))));
        t.add("DELETE", "/queues/{name}", worker(secured(api, ADMIN, new DeleteQueueHandler(api))));
        t.add("POST", "/queues/{name}/messages", io(secured(api, PUSHERS, new PushHandler(api))));
        t.add("GET", "/queues/{name}/messages/first", io(secured(api, PULLERS, new PullFirstHandler(api))));
        t.add("POST", "/queues/{name}/messages/batch", io(secured(api, PUSHERS, new BatchPushHandler(api))));
        t.add("GET", "/queues/{name}/messages", io(secured(api, PULLERS, new PullBatchHandler(api))));
        t.add("POST", "/queues/{name}/leases", io(secured(api, PULLERS, new LeaseHandler(api))));
        LeaseForwarder forwarder = new LeaseForwarder(api.config().tls());
        t.add("POST", "/queues/{name}/acks", io(secured(api, PULLERS, new SettleHandler(api, Settlement.ACK, forwarder))));
        t.add("POST", "/queues/{name}/nacks", io(secured(api, PULLERS, new SettleHandler(api, Settlement.NACK, forwarder))));
        t.add("POST", "/queues/{name}/renewals", io(secured(api, PULLERS,
                new SettleHandler(api, Settlement.RENEW, forwarder))));
        t.add("POST", "/queues/{name}/redrive", worker(secured(api, ADMIN, new RedriveHandler(api))));
        UsersHandler users = new UsersHandler(api);
        t.add("GET", "/users", worker(secured(api, ADMIN, users::list)));
        t.add("POST", "/users/{name}", worker(secured(api, ADMIN, users::create)));
        t.add("DELETE", "/users/{name}", worker(secured(api, ADMIN, users::delete)));
        t.add("PUT", "/users/{name}/password", worker(secured(api, ADMIN, users::changePassword)));
        t.add("GET", "/health", io(ex -> Json.send(ex, 200, Map.of("status", "ok"))));
        t.add("GET", "/health/live", io(health::live));
        t.add("GET", "/health/ready", worker(health::ready));
        if (metrics != null) {
            t.add("GET", "/metrics", worker(new MetricsHandler(metrics, config.metricsBearerToken())));
        }
        t.add("GET", "/openapi.yaml", io(OpenApi::send));
        t.add("GET", "/overview", worker(secured(api, ANYONE_SIGNED_IN,
                new OverviewHandler(api, health, config.auditEnabled() ? audit : null, metrics))));
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
        HttpHandler root = new ErrorBoundary(Connections.tracking(r));
        HttpHandler audited = config.auditEnabled()
                ? new AuditHandler(audit, config.auditBody(), config.auditBodyMaxChars(), audit.maxEventBytes(), clock,
                root) : root;
        return metrics == null ? audited : metrics.http().measure(audited);
    }

    /** The route table under construction; each route is tagged for request metrics when they are on. */
    private static final class Table {
        final RoutingHandler routing = new RoutingHandler(false);
        private final Metrics metrics;
        private final java.util.List<String> declared;

        Table(Metrics metrics, java.util.List<String> declared) {
            this.metrics = metrics;
            this.declared = declared;
        }

        void add(String method, String template, HttpHandler h) {
            declared.add(method + " " + template);
            routing.add(method, template, metrics == null ? h : HttpMetrics.tag(metrics.http().route(method, template), h));
        }
    }

    /** Runs on the IO thread that read the request. */
    private static HttpHandler io(HttpHandler h) {
        return h;
    }

    /** Runs on a worker thread: the exchange is dispatched before anything else happens. */
    private static HttpHandler worker(HttpHandler h) {
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
