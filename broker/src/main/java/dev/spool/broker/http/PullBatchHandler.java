package dev.spool.broker.http;

import dev.spool.storage.Message;
import dev.spool.storage.QueueStore;
import dev.spool.storage.TakeResult;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.io.ByteArrayOutputStream;
import java.util.List;

/** {@code GET /queues/{name}[/subscriptions/{sub}]/messages?max=N&wait=S}: removes up to N oldest messages, as a JSON array. */
final class PullBatchHandler implements HttpHandler {
    private final Api api;

    PullBatchHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        int max = (int) Params.number(ex, "max", 1, 1, api.config().server().maxBatchMessages());
        long wait = Params.waitMillis(ex, api);
        api.waiters().serve(ex, QueueStore.availabilityKey(name, sub), wait, api.store().contract(),
                w -> api.store().take(name, sub, max, w), r -> render(name, sub, r), Json.EMPTY_ARRAY);
    }

    private static byte[] render(String name, String sub, TakeResult r) {
        if (!(r instanceof TakeResult.Taken t)) {
            throw ApiException.notFound(name, sub, r);
        }
        List<Message> messages = t.messages();
        if (messages.isEmpty()) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(messages.size() * 256);
        out.write('[');
        for (int i = 0; i < messages.size(); i++) {
            if (i > 0) {
                out.write(',');
            }
            out.writeBytes(MessageCodec.render(messages.get(i).id(), messages.get(i).payload()));
        }
        out.write(']');
        return out.toByteArray();
    }
}
