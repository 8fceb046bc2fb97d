package dev.spool.broker.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/** {@code GET /queues}: the queue names. */
final class ListQueuesHandler implements HttpHandler {
    private final Api api;

    ListQueuesHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        Json.send(ex, 200, api.store().list());
    }
}
