package dev.spool.broker.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/**
 * The server's root while the broker starts: answers 503 {@code UNAVAILABLE} until {@link #open} hands it
 * the real routes, so the port can be bound before the store is opened. Thread-safe.
 */
public final class StartupGate implements HttpHandler {
    private volatile HttpHandler next;

    /** From now on, every request goes to {@code routes}. */
    public void open(HttpHandler routes) {
        next = routes;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        HttpHandler h = next;
        if (h == null) {
            // Not audited: the audit log is opened after the store.
            Problems.send(ex, new ApiException(ErrorCode.UNAVAILABLE, "the broker is starting"));
            return;
        }
        h.handleRequest(ex);
    }
}
