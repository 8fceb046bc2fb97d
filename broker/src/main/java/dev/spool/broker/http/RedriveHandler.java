package dev.spool.broker.http;

import dev.spool.storage.RedriveResult;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.util.Map;

/** {@code POST /queues/{name}/redrive}: moves the queue's dead letters back into it. Runs on a worker. */
final class RedriveHandler implements HttpHandler {
    private final Api api;

    RedriveHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        if (!(api.store().redrive(name) instanceof RedriveResult.Moved moved)) {
            throw ApiException.queueNotFound(name);
        }
        Json.send(ex, 200, Map.of("result", "ok", "moved", moved.count()));
    }
}
