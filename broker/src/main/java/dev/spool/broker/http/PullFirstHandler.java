package dev.spool.broker.http;

import dev.spool.storage.PullResult;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.nio.charset.StandardCharsets;

/**
 * {@code GET /queues/{name}/messages/first}: removes and returns the oldest message as
 * {@code {"id":..,"body":..,"metadata":..}}, or JSON {@code null} when the queue is empty.
 */
final class PullFirstHandler implements HttpHandler {
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private final Api api;
    private final boolean cursorSyncs;

    PullFirstHandler(Api api, boolean cursorSyncs) {
        this.api = api;
        this.cursorSyncs = cursorSyncs;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        if (cursorSyncs && ex.isInIoThread()) {
            ex.dispatch(new ErrorBoundary(this));
            return;
        }
        PullResult r = api.store().pull(name);
        if (r instanceof PullResult.Message m) {
            Json.send(ex, 200, MessageCodec.render(m.id(), m.payload()));
        } else if (r instanceof PullResult.Empty) {
            Json.send(ex, 200, NULL);
        } else {
            throw PushHandler.missing(name);
        }
    }

}
