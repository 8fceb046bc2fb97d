package dev.spool.broker.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.util.Map;

/** {@code DELETE /queues/{name}}: the queue and its messages are gone. */
final class DeleteQueueHandler implements HttpHandler {
    private final Api api;

    DeleteQueueHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        Exchanges.onWorker(ex, (e, b) -> {
            if (!api.store().delete(name)) {
                throw PushHandler.missing(name);
            }
            Json.send(e, 200, Map.of("result", "ok"));
        }, null);
    }
}
