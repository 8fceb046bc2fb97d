package dev.spool.broker.http;

import dev.spool.broker.http.net.Answers;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.StoreException;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.StatusCodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/** The one place where errors become HTTP responses: RFC 9457 problem details with a stable code. */
public final class Problems {
    private static final Logger LOG = LoggerFactory.getLogger(Problems.class);
    private static final HttpString RETRY_AFTER = new HttpString("Retry-After");

    private Problems() {
    }

    static int status(ErrorCode code) {
        return switch (code) {
            case MALFORMED_JSON, MALFORMED_REQUEST, INVALID_MESSAGE, INVALID_QUEUE_NAME, INVALID_REQUEST, BAD_START,
                    INVALID_SUBSCRIPTION_NAME -> 400;
            case UNAUTHORIZED, BAD_CREDENTIALS -> 401;
            case FORBIDDEN -> 403;
            case QUEUE_NOT_FOUND, SUBSCRIPTION_NOT_FOUND, USER_NOT_FOUND, ROUTE_NOT_FOUND -> 404;
            case METHOD_NOT_ALLOWED -> 405;
            case BODY_TIMEOUT -> 408;
            case QUEUE_EXISTS, SUBSCRIPTION_EXISTS, USER_EXISTS, LAST_ADMINISTRATOR -> 409;
            case PAYLOAD_TOO_LARGE -> 413;
            case UNSUPPORTED_MEDIA_TYPE -> 415;
            case SCHEMA_VIOLATION -> 422;
            case QUEUE_FULL, TOO_MANY_ATTEMPTS, TOO_MANY_CONNECTIONS -> 429;
            case HEADERS_TOO_LARGE -> 431;
            case INTERNAL -> 500;
            case NOT_IMPLEMENTED -> 501;
            case UNAVAILABLE, OUTCOME_UNKNOWN -> 503;
            case DISK_FULL -> 507;
        };
    }

    private static String title(ErrorCode code) {
        String s = code.name().replace('_', ' ').toLowerCase(Locale.ROOT);
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    /** Answers the exchange with the problem that {@code t} stands for. Never throws. */
    static void send(HttpServerExchange ex, Throwable t) {
        ApiException api = classify(t);
        if (ex.isResponseStarted()) {
            LOG.warn("error after the response started ({} {}): {}", ex.getRequestMethod(), ex.getRequestPath(),
                    t.toString());
            ex.endExchange();
            return;
        }
        int status = status(api.code());
        ex.setStatusCode(status);
        if (api.retryAfterSeconds() > 0) {
            ex.getResponseHeaders().put(RETRY_AFTER, Long.toString(api.retryAfterSeconds()));
        }
        if (api.code() == ErrorCode.UNAUTHORIZED || api.code() == ErrorCode.BAD_CREDENTIALS) {
            ex.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Bearer");
        }
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/problem+json");
        ex.getResponseSender().send(ByteBuffer.wrap(body(api)));
    }

    private static byte[] body(ApiException api) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("type", "https://spool.dev/problems/" + api.code().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        body.put("title", title(api.code()));
        body.put("status", status(api.code()));
        body.put("detail", api.getMessage());
        body.put("code", api.code().name());
        return Json.bytes(body);
    }

    /**
     * A whole HTTP/1.1 response carrying the problem, ending with {@code Connection: close}: for answers written
     * on a connection before (or instead of) an exchange, where no handler runs.
     */
    /** What the listener says by itself where no handler runs, as problems of this API. */
    public static Answers networkAnswers() {
        return new Answers(
                wire(new ApiException(ErrorCode.MALFORMED_REQUEST, "the request is not valid HTTP/1.1: a bad request "
                        + "line, a control character in a header, bad percent-encoding in the URL, more than 1000 "
                        + "parameters, or a head over the size limit")),
                wire(new ApiException(ErrorCode.MALFORMED_REQUEST, "the Host header is missing, repeated or malformed: "
                        + "an HTTP/1.1 request carries exactly one")),
                wire(new ApiException(ErrorCode.MALFORMED_REQUEST, "the request body could not be read: bad chunked "
                        + "framing (chunk size or trailers); nothing was stored")),
                wire(new ApiException(ErrorCode.BODY_TIMEOUT, "the request body was not received within "
                        + "server.body_timeout_ms of its head; nothing was stored")),
                wire(new ApiException(ErrorCode.HEADERS_TOO_LARGE, "the request line and headers exceed "
                        + "server.max_header_bytes")),
                wire(new ApiException(ErrorCode.UNAVAILABLE, "the broker is at server.max_connections and every "
                        + "connection is in a request; retry", 1)));
    }

    static byte[] wire(ApiException api) {
        byte[] body = body(api);
        int status = status(api.code());
        String head = "HTTP/1.1 " + status + " " + StatusCodes.getReason(status) + "\r\n"
                + "Content-Type: application/problem+json\r\n"
                + (api.retryAfterSeconds() > 0 ? "Retry-After: " + api.retryAfterSeconds() + "\r\n" : "")
                + "Content-Length: " + body.length + "\r\n"
                + "Connection: close\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    static ApiException classify(Throwable t) {
        if (t instanceof ApiException a) {
            return a;
        }
        if (t instanceof StoreException s) {
            return switch (s.code()) {
                case DISK_FULL -> new ApiException(ErrorCode.DISK_FULL, "the disk is full; nothing was stored");
                case CLOSED -> new ApiException(ErrorCode.UNAVAILABLE, "the broker is shutting down");
                case BUSY -> new ApiException(ErrorCode.UNAVAILABLE, "the queue is briefly busy; nothing was stored; retry");
                // Only opening a store can raise it, so a request never should; answered as unavailable.
                case LOCKED -> new ApiException(ErrorCode.UNAVAILABLE, "the data folder is in use by another process");
                case UNAVAILABLE -> s.getCause() == null ? new ApiException(ErrorCode.UNAVAILABLE, s.getMessage())
                        : engineUnavailable(s);
                // The store's words say what the client may assume (outcome unknown; nothing changed).
                case SYNC_FAILED -> new ApiException(ErrorCode.OUTCOME_UNKNOWN, s.getMessage());
                case QUEUE_FAILED -> new ApiException(ErrorCode.UNAVAILABLE, s.getMessage());
                case UNCONFIRMED -> unconfirmed(s);
                case IO -> internal(t);
            };
        }
        if (t instanceof UnsupportedOperationException u) {
            return new ApiException(ErrorCode.NOT_IMPLEMENTED, u.getMessage() == null ? "not offered by this backend"
                    : u.getMessage());
        }
        return internal(t);
    }

    /**
     * The engine under a distributed store failed to answer: its own words (Kafka's error text, addresses) go to
     * the log, and the client is told what it may assume.
     */
    private static ApiException engineUnavailable(StoreException s) {
        LOG.warn("storage engine unavailable: {}", s.getMessage());
        return new ApiException(ErrorCode.UNAVAILABLE, "the storage engine did not answer; the request's outcome is "
                + "unknown (a push may have been stored): retry, pushes with their Idempotency-Key");
    }

    /** Kafka did not confirm an acknowledgement: its words go to the log, the client learns what it may assume. */
    private static ApiException unconfirmed(StoreException s) {
        LOG.warn("acknowledgement not confirmed: {}", s.getMessage());
        return new ApiException(ErrorCode.OUTCOME_UNKNOWN, "the storage engine did not confirm the acknowledgement, "
                + "which may or may not have been applied: a pull may have taken its messages (they are not delivered"
                + " again if it did), an ack or nack may have landed (send the leases again: one already settled is"
                + " rejected)");
    }

    private static ApiException internal(Throwable t) {
        LOG.error("unexpected failure", t);
        return new ApiException(ErrorCode.INTERNAL, "internal error; see the broker's log");
    }
}
