package dev.spool.broker.http;

import dev.spool.storage.Message;
import dev.spool.storage.QueueStore;
import dev.spool.storage.TakeResult;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.nio.charset.StandardCharsets;

/**
 * {@code GET /queues/{name}[/subscriptions/{sub}]/messages/first[?wait=S]}: removes and returns the oldest message as
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
        String sub = Exchanges.subscriptionName(ex);
        long wait = Params.waitMillis(ex, api);
        api.waiters().serve(ex, QueueStore.availabilityKey(name, sub), wait, api.store().contract(),
                w -> api.store().take(name, sub, 1, w), r -> {
            if (!(r instanceof TakeResult.Taken t)) {
                throw ApiException.notFound(name, sub, r);
            }
            if (t.messages().isEmpty()) {
                return null;
            }
            Message m = t.messages().get(0);
            return MessageCodec.render(m.id(), m.payload());
        }, NULL);
    }
}
