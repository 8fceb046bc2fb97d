package dev.spool.broker.http;

import dev.spool.storage.DeleteResult;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.util.Map;

/** {@code DELETE /queues/{name}}: the queue and its messages are gone. Runs on a worker. */
final class DeleteQueueHandler implements HttpHandler {
    private final Api api;

    DeleteQueueHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        if (!(api.store().delete(name) instanceof DeleteResult.Deleted)) {
            throw ApiException.queueNotFound(name);
        }
        Json.send(ex, 200, Map.of("result", "ok"));
    }
}
