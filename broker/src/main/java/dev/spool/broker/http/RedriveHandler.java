package dev.spool.broker.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.util.Map;

/** {@code POST /queues/{name}/redrive}: moves the queue's dead letters back into it. */
final class RedriveHandler implements HttpHandler {
    private final Api api;

    RedriveHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        Exchanges.onWorker(ex, (e, b) -> {
            long moved = api.store().redrive(name);
            if (moved < 0) {
                throw PushHandler.missing(name);
            }
            if (moved > 0) {
                api.waiters().signal(name, (int) Math.min(Integer.MAX_VALUE, moved));
            }
            Json.send(e, 200, Map.of("result", "ok", "moved", moved));
        }, null);
    }
}
