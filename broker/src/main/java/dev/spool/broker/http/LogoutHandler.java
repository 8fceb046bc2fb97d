package dev.spool.broker.http;

import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.util.Map;

/** {@code POST /logout}: revokes the caller's token. Runs on a worker (the tokens file is rewritten). */
final class LogoutHandler implements HttpHandler {
    private final Api api;

    LogoutHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        api.tokens().revoke(Secured.token(ex));
        Json.send(ex, 200, Map.of("result", "ok"));
    }
}
