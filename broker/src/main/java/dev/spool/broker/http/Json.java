package dev.spool.broker.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

import java.io.IOException;

/** JSON in and out. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** An empty JSON array: what a batch pull or lease answers when nothing came. */
    static final byte[] EMPTY_ARRAY = {'[', ']'};

    private Json() {
    }

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON", e);
        }
    }

    /** Parses a request body; malformed JSON is a 400. */
    static JsonNode parse(byte[] body) {
        try {
            JsonNode n = MAPPER.readTree(body);
            if (n == null || n.isMissingNode()) {
                throw new ApiException(ErrorCode.MALFORMED_JSON, "the request body is empty; a JSON object is required");
            }
            return n;
        } catch (IOException e) {
            String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new ApiException(ErrorCode.MALFORMED_JSON, "the request body is not valid JSON: " + first);
        }
    }

    static void send(HttpServerExchange ex, int status, Object value) {
        send(ex, status, bytes(value));
    }

    static void send(HttpServerExchange ex, int status, byte[] json) {
        ex.setStatusCode(status);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        ex.getResponseSender().send(java.nio.ByteBuffer.wrap(json));
    }
}
