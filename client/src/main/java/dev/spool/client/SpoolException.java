package dev.spool.client;

/**
 * A request the broker refused, with its problem's {@code status}, {@code code} and {@code detail}; or one that
 * never reached it ({@code status} 0, code {@code CONNECTION_FAILED}).
 */
public final class SpoolException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;
    private final String detail;
    private final long retryAfterSeconds;

    public SpoolException(int status, String code, String detail, long retryAfterSeconds) {
        super(status + " " + code + ": " + detail);
        this.status = status;
        this.code = code;
        this.detail = detail;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String detail() {
        return detail;
    }

    /** The answer's {@code Retry-After}, or 0. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
