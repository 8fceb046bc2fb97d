package dev.spool.broker.http;

/** A request that cannot be served, with a stable {@link ErrorCode} and a detail for the client. */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;
    private final long retryAfterSeconds;

    public ApiException(ErrorCode code, String detail) {
        this(code, detail, 0);
    }

    /** With a {@code Retry-After} for the client (seconds; 0: none). */
    public ApiException(ErrorCode code, String detail, long retryAfterSeconds) {
        super(detail, null, false, false);
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The one "no such queue" problem every route answers with. */
    static ApiException queueNotFound(String name) {
        return new ApiException(ErrorCode.QUEUE_NOT_FOUND, "queue '" + name + "' does not exist");
    }

    /** What a call on subscription {@code sub} of queue {@code name} answers when either is not there. */
    static ApiException notFound(String name, String sub, Object outcome) {
        if (sub != null && outcome instanceof dev.spool.storage.NoSuchSubscription) {
            return new ApiException(ErrorCode.SUBSCRIPTION_NOT_FOUND, "queue '" + name + "' has no subscription '"
                    + sub + "'");
        }
        return queueNotFound(name);
    }

    ErrorCode code() {
        return code;
    }
}
