package dev.spool.broker.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.util.Map;

/** {@code POST /logout}: revokes the caller's token. */
final class LogoutHandler implements HttpHandler {
    private final Api api;

    LogoutHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        Exchanges.onWorker(ex, (e, b) -> {
            api.tokens().revoke(Secured.token(e));
            Json.send(e, 200, Map.of("result", "ok"));
        }, null);
    }
}
