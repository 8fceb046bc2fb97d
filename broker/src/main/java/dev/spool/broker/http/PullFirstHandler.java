package dev.spool.broker.http;

import dev.spool.storage.PullResult;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.nio.charset.StandardCharsets;

/**
 * {@code GET /queues/{name}/messages/first[?wait=S]}: removes and returns the oldest message as
 * {@code {"id":..,"body":..,"metadata":..}}, or JSON {@code null} when the queue is (still, after the
 * wait) empty.
 */
final class PullFirstHandler implements HttpHandler {
    static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private final Api api;

    PullFirstHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        String name = Exchanges.queueName(ex);
        long wait = Params.waitMillis(ex, api);
        if (api.pullBlocks() && ex.isInIoThread()) {
            ex.dispatch(new ErrorBoundary(this));
            return;
        }
        api.waiters().serve(ex, name, wait, () -> {
            PullResult r = api.store().pull(name);
            if (r instanceof PullResult.Message m) {
                return MessageCodec.render(m.id(), m.payload());
            }
            if (r instanceof PullResult.NoSuchQueue) {
                throw PushHandler.missing(name);
            }
            return null;
        }, NULL);
    }
}
