package dev.spool.broker.http;

import dev.spool.broker.audit.AuditLog;
import dev.spool.broker.auth.Role;
import dev.spool.broker.config.BrokerConfig;
import io.undertow.server.HttpHandler;
import io.undertow.server.RoutingHandler;

import java.time.Clock;
import java.util.EnumSet;
import java.util.Set;

/** The API table: every route with the roles it needs. */
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
                .post("/login", new LoginHandler(api))
                .post("/logout", secured(api, ANYONE_SIGNED_IN, new LogoutHandler(api)))
                .get("/queues", secured(api, ANYONE_SIGNED_IN, new ListQueuesHandler(api)))
                .get("/queues/{name}", secured(api, ANYONE_SIGNED_IN, new QueueStatsHandler(api)))
                .post("/queues/{name}", secured(api, ADMIN, new CreateQueueHandler(api)))
                .delete("/queues/{name}", secured(api, ADMIN, new DeleteQueueHandler(api)))
                .post("/queues/{name}/messages", secured(api, PUSHERS, new PushHandler(api)))
                .get("/queues/{name}/messages/first", secured(api, PULLERS, new PullFirstHandler(api)))
                .post("/queues/{name}/messages/batch", secured(api, PUSHERS, new BatchPushHandler(api)))
                .get("/queues/{name}/messages", secured(api, PULLERS, new PullBatchHandler(api)))
                .post("/queues/{name}/leases", secured(api, PULLERS, new LeaseHandler(api)))
                .post("/queues/{name}/acks", secured(api, PULLERS, new SettleHandler(api, SettleHandler.Kind.ACK)))
                .post("/queues/{name}/nacks", secured(api, PULLERS, new SettleHandler(api, SettleHandler.Kind.NACK)))
                .post("/queues/{name}/renewals", secured(api, PULLERS, new SettleHandler(api, SettleHandler.Kind.RENEW)))
                .post("/queues/{name}/redrive", secured(api, ADMIN, new RedriveHandler(api)))
                .get("/health", ex -> Json.send(ex, 200, java.util.Map.of("status", "ok")))
                .setFallbackHandler(ex -> {
                    throw new ApiException(ErrorCode.ROUTE_NOT_FOUND, "no route for " + ex.getRequestPath());
                })
                .setInvalidMethodHandler(ex -> {
                    throw new ApiException(ErrorCode.METHOD_NOT_ALLOWED, ex.getRequestMethod() + " is not allowed on "
                            + ex.getRequestPath());
                });
        HttpHandler root = new ErrorBoundary(r);
        return config.auditEnabled()
                ? new AuditHandler(audit, config.auditBody(), config.auditBodyMaxChars(), clock, root) : root;
    }

    private static HttpHandler secured(Api api, Set<Role> roles, HttpHandler h) {
        return new Secured(api.tokens(), roles, h);
    }

}
