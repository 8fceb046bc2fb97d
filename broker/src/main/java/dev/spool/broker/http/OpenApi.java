package dev.spool.broker.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/** {@code GET /openapi.yaml}: the API's OpenAPI 3.1 description, from the jar. */
final class OpenApi {
    /** The document, read once. */
    static final byte[] DOCUMENT = load();

    private OpenApi() {
    }

    private static byte[] load() {
        try (InputStream in = OpenApi.class.getResourceAsStream("openapi.yaml")) {
            if (in == null) {
                throw new IllegalStateException("openapi.yaml is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void send(HttpServerExchange ex) {
        ex.setStatusCode(200);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/yaml");
        ex.getResponseSender().send(ByteBuffer.wrap(DOCUMENT));
    }
}
