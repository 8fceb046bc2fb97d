package dev.spool.broker.http;

import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.QueueStore;
import dev.spool.storage.StoreContract;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * {@code POST /queues/{name}[/subscriptions/{sub}]/leases?max=N&wait=S&visibility=S}: leases up to N messages, as a JSON array
 * of {@code {"id","lease","delivery","body","metadata"}}.
 */
final class LeaseHandler implements HttpHandler {
    private final Api api;

    LeaseHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        String name = Exchanges.queueName(ex);
        String sub = Exchanges.subscriptionName(ex);
        int max = (int) Params.number(ex, "max", 1, 1, api.config().server().maxBatchMessages());
        StoreContract c = api.store().contract();
        long longest = Math.min(c.maxVisibility().toSeconds(), api.config().queues().maxVisibilitySeconds());
        // The configured default is capped by what the backend can hold; an explicit longer request is refused.
        long visibility = Params.number(ex, "visibility", Math.min(api.config().queues().visibilitySeconds(), longest), 1, 43_200);
        if (visibility > longest) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "visibility must be at most " + longest
                    + " s (queues.max_visibility_seconds), was " + visibility);
        }
        long wait = Params.waitMillis(ex, api);
        api.waiters().serve(ex, QueueStore.availabilityKey(name, sub), wait, c,
                w -> api.store().lease(name, sub, max, Duration.ofSeconds(visibility), w), r -> render(name, sub, r),
                Json.EMPTY_ARRAY);
    }

    private static byte[] render(String name, String sub, LeaseResult r) {
        if (!(r instanceof LeaseResult.Granted g)) {
            throw ApiException.notFound(name, sub, r);
        }
        List<Leased> leased = g.messages();
        if (leased.isEmpty()) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(leased.size() * 300);
        out.write('[');
        for (int i = 0; i < leased.size(); i++) {
            Leased l = leased.get(i);
            if (i > 0) {
                out.write(',');
            }
            out.writeBytes(("{\"id\":" + l.id() + ",\"lease\":\"" + l.lease() + "\",\"delivery\":" + l.delivery() + ",")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(l.payload(), 1, l.payload().length - 1);
        }
        out.write(']');
        return out.toByteArray();
    }
}
