package dev.spool.broker.http;

import dev.spool.broker.metrics.Metrics;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code GET /metrics}: every metric in the Prometheus text format. Open by default, as Prometheus expects on a
 * private network; with {@code metrics.bearer_token} set, only a scrape sending that token is answered.
 * Runs on a worker (queue figures measure disk use).
 */
final class MetricsHandler implements HttpHandler {
    private final Metrics metrics;
    private final byte[] expected;

    MetricsHandler(Metrics metrics, String bearerToken) {
        this.metrics = metrics;
        this.expected = bearerToken == null ? null : ("Bearer " + bearerToken).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        if (expected != null) {
            String given = ex.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
            if (given == null || !MessageDigest.isEqual(expected, given.getBytes(StandardCharsets.UTF_8))) {
                throw new ApiException(ErrorCode.UNAUTHORIZED, "this broker's metrics need the bearer token "
                        + "configured as metrics.bearer_token");
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        metrics.scrape(out);
        ex.setStatusCode(200);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, metrics.contentType());
        ex.getResponseSender().send(ByteBuffer.wrap(out.toByteArray()));
    }
}
