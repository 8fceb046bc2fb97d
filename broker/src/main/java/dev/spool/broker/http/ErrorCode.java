package dev.spool.broker.http;

/** Stable error codes of the API; {@link Problems} maps each to its HTTP status in one switch. */
public enum ErrorCode {
    MALFORMED_JSON,
    MALFORMED_REQUEST,
    /** The request body did not arrive within server.body_timeout_ms of its head (408). */
    BODY_TIMEOUT,
    /** The request line and headers exceed server.max_header_bytes (431). */
    HEADERS_TOO_LARGE,
    INVALID_MESSAGE,
    INVALID_QUEUE_NAME,
    INVALID_REQUEST,
    UNAUTHORIZED,
    BAD_CREDENTIALS,
    FORBIDDEN,
    QUEUE_NOT_FOUND,
    /** The queue has no subscription of that name (404). */
    SUBSCRIPTION_NOT_FOUND,
    /** A subscription of that name exists already (409). */
    SUBSCRIPTION_EXISTS,
    /** A subscription's start names no place in the queue, or more than one (400). */
    BAD_START,
    INVALID_SUBSCRIPTION_NAME,
    /** The backend does not offer this (501). */
    NOT_IMPLEMENTED,
    USER_NOT_FOUND,
    ROUTE_NOT_FOUND,
    METHOD_NOT_ALLOWED,
    QUEUE_EXISTS,
    USER_EXISTS,
    LAST_ADMINISTRATOR,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    SCHEMA_VIOLATION,
    QUEUE_FULL,
    TOO_MANY_ATTEMPTS,
    TOO_MANY_CONNECTIONS,
    DISK_FULL,
    UNAVAILABLE,
    /** The request may or may not have taken effect (a sync failed while it waited): retry with an idempotency key. */
    OUTCOME_UNKNOWN,
    INTERNAL
}
