package dev.spool.broker.http;

import dev.spool.broker.http.net.GuardedConnection;
import dev.spool.broker.http.net.UndertowWire;
import dev.spool.storage.QueueStore;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import io.undertow.util.PathTemplateMatch;

import java.util.Locale;

/** What handlers read from and attach to an exchange. */
public final class Exchanges {
    /** The whole request body, received on the IO thread before the route was dispatched to a worker. */
    static final AttachmentKey<byte[]> BODY = AttachmentKey.create(byte[].class);

    private Exchanges() {
    }

    /** Something to do with a request's whole body. */
    @FunctionalInterface
    interface BodyHandler {
        void handle(HttpServerExchange ex, byte[] body) throws Exception;
    }

    /** Whether the request carries a body (Content-Type is checked only then). */
    static boolean hasBody(HttpServerExchange ex) {
        String len = ex.getRequestHeaders().getFirst(Headers.CONTENT_LENGTH);
        if (len != null) {
            return !len.trim().equals("0");
        }
        return ex.getRequestHeaders().contains(Headers.TRANSFER_ENCODING);
    }

    /** Refuses a body whose Content-Type is not JSON. */
    static void requireJson(HttpServerExchange ex) {
        String type = ex.getRequestHeaders().getFirst(Headers.CONTENT_TYPE);
        String media = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!media.equals("application/json")) {
            throw new ApiException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type must be application/json, was '" + (type == null ? "" : type) + "'");
        }
    }

    /**
     * Reads the whole body and hands it on, on the thread the route runs on (see {@link Routes}): the body a worker
     * route received on the IO thread before it was dispatched, or on an IO thread without blocking. Only where
     * neither holds (a route dispatched for another reason) is it read by a blocking read. Errors, including those
     * the handler throws, become problem responses.
     */
    static void readBody(HttpServerExchange ex, int maxBytes, BodyHandler handler) {
        byte[] received = ex.getAttachment(BODY);
        if (received == null) {
            checkFraming(ex, maxBytes);
        }
        if (received == null && ex.isInIoThread()) {
            receive(ex, maxBytes, handler);
            return;
        }
        byte[] body = received;
        if (body == null) {
            try {
                ex.startBlocking();
                body = ex.getInputStream().readNBytes(maxBytes + 1);
            } catch (java.io.IOException io) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "could not read the body: " + io.getMessage());
            }
        }
        deliver(ex, body, maxBytes, handler);
    }

    /** Hands a whole body on once it is within {@code maxBytes} and UTF-8; any failure becomes a problem answer. */
    private static void deliver(HttpServerExchange ex, byte[] body, int maxBytes, BodyHandler handler) {
        try {
            if (body.length > maxBytes) {
                throw tooLarge(maxBytes);
            }
            requireUtf8(body);
            handler.handle(ex, body);
        } catch (Throwable t) {
            Problems.send(ex, t);
        }
    }

    /**
     * For a route that runs on a worker: receives the body (if any) on the IO thread first, so that a client sending
     * it slowly holds no worker, then runs {@code next} with the body attached as {@link #BODY}.
     */
    static void receiveThen(HttpServerExchange ex, int maxBytes, io.undertow.server.HttpHandler next) throws Exception {
        if (!ex.isInIoThread() || ex.getAttachment(BODY) != null || !hasBody(ex)) {
            next.handleRequest(ex);
            return;
        }
        checkFraming(ex, maxBytes);
        receive(ex, maxBytes, (e, body) -> {
            e.putAttachment(BODY, body);
            next.handleRequest(e);
        });
    }

    /** Refuses a transfer coding other than chunked, and a Content-Length over {@code maxBytes}. */
    private static void checkFraming(HttpServerExchange ex, int maxBytes) {
        String coding = ex.getRequestHeaders().getFirst(Headers.TRANSFER_ENCODING);
        if (coding != null && !coding.trim().equalsIgnoreCase("chunked")) {
            // RFC 9112 6.1: a transfer coding the server does not understand is refused, not read to the end.
            throw new ApiException(ErrorCode.INVALID_REQUEST, "Transfer-Encoding must be chunked, was '" + coding + "'");
        }
        String len = ex.getRequestHeaders().getFirst(Headers.CONTENT_LENGTH);
        if (len != null) {
            long n;
            try {
                n = Long.parseLong(len.trim());
            } catch (NumberFormatException e) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "Content-Length is not a number");
            }
            if (n > maxBytes) {
                throw tooLarge(maxBytes);
            }
        }
    }

    /**
     * Receives the whole body on the IO thread without blocking, then hands it on. A body not already there is
     * given until {@code server.body_timeout_ms} after the request's head ({@link GuardedConnection#awaitingBody}).
     */
    private static void receive(HttpServerExchange ex, int maxBytes, BodyHandler handler) {
        GuardedConnection guard = GuardedConnection.of(ex);
        Received received = new Received();
        ex.getRequestReceiver().receiveFullBytes((e, body) -> {
            received.done = true;
            if (guard != null) {
                guard.bodyReceived();
            }
            deliver(e, body, maxBytes, handler);
        }, (e, io) -> {
            received.done = true;
            if (guard != null) {
                guard.bodyReceived();
            }
            Problems.send(e, UndertowWire.entityTooLarge(io) ? tooLarge(maxBytes)
                    : new ApiException(ErrorCode.INVALID_REQUEST, "could not read the body: " + io.getMessage()));
        });
        if (!received.done && guard != null) {
            guard.awaitingBody(ex);
        }
    }

    /** Whether a receive's callback has run. */
    private static final class Received {
        boolean done;
    }

    /**
     * JSON on the wire is UTF-8 (RFC 8259 8.1). A UTF-16 or UTF-32 text has a zero byte among its first four
     * (its first character is ASCII), or starts with their byte-order mark.
     */
    private static void requireUtf8(byte[] body) {
        boolean other = body.length >= 2 && ((body[0] == (byte) 0xFE && body[1] == (byte) 0xFF)
                || (body[0] == (byte) 0xFF && body[1] == (byte) 0xFE));
        for (int i = 0; i < Math.min(4, body.length) && !other; i++) {
            other = body[i] == 0;
        }
        if (other) {
            throw new ApiException(ErrorCode.MALFORMED_JSON, "the request body must be JSON in UTF-8");
        }
    }

    private static ApiException tooLarge(int maxBytes) {
        return new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "the body exceeds max_message_bytes (" + maxBytes + ")");
    }

    /** Something to do with a result on the exchange. */
    @FunctionalInterface
    interface ResultHandler<T> {
        void handle(HttpServerExchange ex, T result) throws Exception;
    }

    /**
     * Answers when {@code future} completes, on the exchange's IO thread, holding no thread meanwhile;
     * at once if it is already complete.
     */
    static <T> void whenDone(HttpServerExchange ex, java.util.concurrent.CompletionStage<T> stage,
                             ResultHandler<T> handler) throws Exception {
        java.util.concurrent.CompletableFuture<T> future = stage.toCompletableFuture();
        if (future.isDone() && !future.isCompletedExceptionally()) {
            handler.handle(ex, future.join());
            return;
        }
        ex.dispatch(io.undertow.util.SameThreadExecutor.INSTANCE, () -> future.whenComplete((r, t) ->
                ex.getIoThread().execute(() -> {
                    try {
                        if (t instanceof java.util.concurrent.CancellationException
                                || t instanceof java.util.concurrent.CompletionException
                                && t.getCause() instanceof java.util.concurrent.CancellationException) {
                            ex.endExchange(); // cancelled because its client hung up: nobody to answer
                            return;
                        }
                        if (t != null) {
                            throw t instanceof java.util.concurrent.CompletionException && t.getCause() != null
                                    ? t.getCause() : t;
                        }
                        handler.handle(ex, r);
                    } catch (Throwable e) {
                        Problems.send(ex, e);
                    }
                })));
    }

    /**
     * The validated {@code {name}} path parameter. It must also be exactly what the request's raw path
     * segment decodes to: the server decodes {@code %3F} into a query start and drops {@code ;} path
     * parameters, which would route {@code /queues/a%3Fb} to queue {@code a}.
     */
    static String queueName(HttpServerExchange ex) {
        PathTemplateMatch match = ex.getAttachment(PathTemplateMatch.ATTACHMENT_KEY);
        String name = match == null ? null : match.getParameters().get("name");
        String raw = rawSegment(ex.getRequestURI(), "/queues/");
        if (!QueueStore.isValidName(name) || raw == null || !name.equals(percentDecode(raw))) {
            String shown = raw == null ? name : raw;
            throw new ApiException(ErrorCode.INVALID_QUEUE_NAME, "the path must name one queue matching "
                    + QueueStore.NAME_PATTERN + ", was '" + shown + "'");
        }
        return name;
    }

    /**
     * The validated {@code {sub}} of a {@code /queues/{name}/subscriptions/{sub}...} route, checked against the raw
     * path as the queue's name is; null on a route of the queue's own (its default subscription).
     */
    static String subscriptionName(HttpServerExchange ex) {
        PathTemplateMatch match = ex.getAttachment(PathTemplateMatch.ATTACHMENT_KEY);
        if (match == null || !match.getParameters().containsKey("sub")) {
            return null;
        }
        String sub = match.getParameters().get("sub");
        String rawQueue = rawSegment(ex.getRequestURI(), "/queues/");
        String raw = rawQueue == null ? null : rawSegment(ex.getRequestURI(), "/queues/" + rawQueue + "/subscriptions/");
        if (!QueueStore.isValidSubscription(sub) || raw == null || !sub.equals(percentDecode(raw))) {
            throw new ApiException(ErrorCode.INVALID_SUBSCRIPTION_NAME, "the path must name one subscription matching "
                    + QueueStore.SUBSCRIPTION_PATTERN + ", was '" + (raw == null ? sub : raw) + "'");
        }
        return sub;
    }

    /** The validated {@code {name}} of a {@code /users/{name}} route, checked against the raw path as above. */
    static String userName(HttpServerExchange ex) {
        PathTemplateMatch match = ex.getAttachment(PathTemplateMatch.ATTACHMENT_KEY);
        String name = match == null ? null : match.getParameters().get("name");
        String raw = rawSegment(ex.getRequestURI(), "/users/");
        if (name == null || !name.matches(dev.spool.broker.auth.UserStore.NAME_PATTERN) || raw == null
                || !name.equals(percentDecode(raw))) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "the path must name one user of 1-64 of "
                    + "[A-Za-z0-9._@-], was '" + (raw == null ? name : raw) + "'");
        }
        return name;
    }

    /** The undecoded segment after {@code prefix} of a request URI (with or without scheme and host). */
    private static String rawSegment(String uri, String prefix) {
        int at = uri.indexOf(prefix);
        if (at < 0) {
            return null;
        }
        String rest = uri.substring(at + prefix.length());
        int end = rest.indexOf('/');
        return end < 0 ? rest : rest.substring(0, end);
    }

    /** Strict percent-decoding of a path segment as UTF-8 ('+' is itself); null if an escape is malformed. */
    static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '%') {
                out.writeBytes(String.valueOf(c).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                continue;
            }
            if (i + 2 >= s.length() || Character.digit(s.charAt(i + 1), 16) < 0 || Character.digit(s.charAt(i + 2), 16) < 0) {
                return null;
            }
            out.write(Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16));
            i += 2;
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

}
