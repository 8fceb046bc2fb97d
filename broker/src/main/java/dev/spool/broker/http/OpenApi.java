package dev.spool.broker.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

import java.nio.ByteBuffer;

/** {@code GET /openapi.yaml}: the API's OpenAPI 3.1 description, from the jar. */
final class OpenApi {
    /** The document, read once. */
    static final byte[] DOCUMENT = Ui.resource("openapi.yaml");

    private OpenApi() {
    }

    static void send(HttpServerExchange ex) {
        ex.setStatusCode(200);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/yaml");
        ex.getResponseSender().send(ByteBuffer.wrap(DOCUMENT));
    }
}
