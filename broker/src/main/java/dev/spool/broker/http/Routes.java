package dev.spool.broker.http;

import dev.spool.broker.audit.AuditHandler;
import dev.spool.broker.audit.AuditLog;
import dev.spool.broker.auth.Role;
import dev.spool.broker.config.BrokerConfig;
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

    /** The root handler: audit, then errors as problem details, then the routes. */
    public static HttpHandler build(Api api, AuditLog audit, BrokerConfig config, Clock clock) {
        RoutingHandler r = new RoutingHandler(false)
                .post("/login", worker(new LoginHandler(api)))
                .post("/logout", worker(secured(api, ANYONE_SIGNED_IN, new LogoutHandler(api))))
                .get("/queues", io(secured(api, ANYONE_SIGNED_IN, new ListQueuesHandler(api))))
                .get("/queues/{name}", worker(secured(api, ANYONE_SIGNED_IN, new QueueStatsHandler(api))))
                .post("/queues/{name}", worker(secured(api, ADMIN, new CreateQueueHandler(api))))
                .delete("/queues/{name}", worker(secured(api, ADMIN, new DeleteQueueHandler(api))))
                .post("/queues/{name}/messages", io(secured(api, PUSHERS, new PushHandler(api))))
                .get("/queues/{name}/messages/first", io(secured(api, PULLERS, new PullFirstHandler(api))))
                .post("/queues/{name}/messages/batch", io(secured(api, PUSHERS, new BatchPushHandler(api))))
                .get("/queues/{name}/messages", io(secured(api, PULLERS, new PullBatchHandler(api))))
                .post("/queues/{name}/leases", io(secured(api, PULLERS, new LeaseHandler(api))))
                .post("/queues/{name}/acks", io(secured(api, PULLERS, new SettleHandler(api, Settlement.ACK))))
                .post("/queues/{name}/nacks", io(secured(api, PULLERS, new SettleHandler(api, Settlement.NACK))))
                .post("/queues/{name}/renewals", io(secured(api, PULLERS, new SettleHandler(api, Settlement.RENEW))))
                .post("/queues/{name}/redrive", worker(secured(api, ADMIN, new RedriveHandler(api))))
                .get("/health", io(ex -> Json.send(ex, 200, Map.of("status", "ok"))))
                .setFallbackHandler(ex -> {
                    throw new ApiException(ErrorCode.ROUTE_NOT_FOUND, "no route for " + ex.getRequestPath());
                })
                .setInvalidMethodHandler(ex -> {
                    throw new ApiException(ErrorCode.METHOD_NOT_ALLOWED, ex.getRequestMethod() + " is not allowed on "
                            + ex.getRequestPath());
                });
        HttpHandler root = new ErrorBoundary(Connections.tracking(r));
        return config.auditEnabled()
                ? new AuditHandler(audit, config.auditBody(), config.auditBodyMaxChars(), clock, root) : root;
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
