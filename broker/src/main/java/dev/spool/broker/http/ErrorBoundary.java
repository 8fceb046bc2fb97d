package dev.spool.broker.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/** Turns anything a handler throws into a problem response. */
final class ErrorBoundary implements HttpHandler {
    private final HttpHandler next;

    ErrorBoundary(HttpHandler next) {
        this.next = next;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        try {
            next.handleRequest(ex);
        } catch (Throwable t) {
            Problems.send(ex, t);
        }
    }
}
