package dev.spool.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Principal;
import dev.spool.storage.QueueStore;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import io.undertow.util.PathTemplateMatch;

import java.util.Locale;

/** What handlers read from and attach to an exchange. */
public final class Exchanges {
    /** The signed-in user, set by {@link Secured}; read by the audit log. */
    public static final AttachmentKey<Principal> PRINCIPAL = AttachmentKey.create(Principal.class);
    /** The request body as the audit log may show it (passwords already redacted). */
    public static final AttachmentKey<JsonNode> AUDIT_BODY = AttachmentKey.create(JsonNode.class);
    /** The raw request body, already validated as JSON, for the audit log to copy instead of re-serialising. */
    public static final AttachmentKey<byte[]> AUDIT_RAW_BODY = AttachmentKey.create(byte[].class);
    /** The pushed message's metadata for the audit log: a JsonNode, or its raw JSON (AuditEvent.RawJson). */
    public static final AttachmentKey<Object> AUDIT_METADATA = AttachmentKey.create(Object.class);
    /** The signed-in user's name when there is no principal yet (login). */
    public static final AttachmentKey<String> AUDIT_USER = AttachmentKey.create(String.class);

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
     * Reads the whole body and hands it on, on the thread the route runs on (see {@link Routes}): on an
     * IO thread without blocking, on a worker by a blocking read. Errors, including those the handler
     * throws, become problem responses.
     */
    static void readBody(HttpServerExchange ex, int maxBytes, BodyHandler handler) {
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
        if (!ex.isInIoThread()) {
            byte[] body;
            try {
                ex.startBlocking();
                body = ex.getInputStream().readNBytes(maxBytes + 1);
            } catch (java.io.IOException io) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "could not read the body: " + io.getMessage());
            }
            if (body.length > maxBytes) {
                throw tooLarge(maxBytes);
            }
            try {
                handler.handle(ex, body);
            } catch (Throwable t) {
                Problems.send(ex, t);
            }
            return;
        }
        ex.getRequestReceiver().receiveFullBytes((e, body) -> {
            try {
                if (body.length > maxBytes) {
                    throw tooLarge(maxBytes);
                }
                handler.handle(e, body);
            } catch (Throwable t) {
                Problems.send(e, t);
            }
        }, (e, io) -> Problems.send(e, io.getMessage() != null && io.getMessage().contains("UT000020")
                ? tooLarge(maxBytes) : new ApiException(ErrorCode.INVALID_REQUEST, "could not read the body: "
                + io.getMessage())));
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

    /** The validated {@code {name}} path parameter. */
    static String queueName(HttpServerExchange ex) {
        PathTemplateMatch match = ex.getAttachment(PathTemplateMatch.ATTACHMENT_KEY);
        String name = match == null ? null : match.getParameters().get("name");
        if (!QueueStore.isValidName(name)) {
            throw new ApiException(ErrorCode.INVALID_QUEUE_NAME, "queue name must match " + QueueStore.NAME_PATTERN
                    + ", was '" + name + "'");
        }
        return name;
    }

}
