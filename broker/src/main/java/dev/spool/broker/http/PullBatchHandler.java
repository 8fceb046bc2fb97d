package dev.spool.broker.http;

import dev.spool.storage.BatchPullResult;
import dev.spool.storage.PullResult;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.io.ByteArrayOutputStream;

/** {@code GET /queues/{name}/messages?max=N&wait=S}: removes up to N oldest messages, as a JSON array. */
final class PullBatchHandler implements HttpHandler {
    static final byte[] EMPTY = Waiters.utf8("[]");
    private final Api api;

    PullBatchHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        String name = Exchanges.queueName(ex);
        int max = (int) Params.number(ex, "max", 1, 1, api.config().maxBatchMessages());
        long wait = Params.waitMillis(ex, api);
        if (api.pullBlocks() && ex.isInIoThread()) {
            ex.dispatch(new ErrorBoundary(this));
            return;
        }
        api.waiters().serve(ex, name, wait, () -> {
            BatchPullResult r = api.store().pullBatch(name, max);
            if (r instanceof BatchPullResult.NoSuchQueue) {
                throw PushHandler.missing(name);
            }
            var messages = ((BatchPullResult.Messages) r).messages();
            if (messages.isEmpty()) {
                return null;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream(messages.size() * 256);
            out.write('[');
            for (int i = 0; i < messages.size(); i++) {
                PullResult.Message m = messages.get(i);
                if (i > 0) {
                    out.write(',');
                }
                out.write(MessageCodec.render(m.id(), m.payload()));
            }
            out.write(']');
            return out.toByteArray();
        }, EMPTY);
    }
}
