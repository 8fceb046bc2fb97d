package dev.spool.broker.http;

/** Stable error codes of the API; {@link Problems} maps each to its HTTP status in one switch. */
enum ErrorCode {
    MALFORMED_JSON,
    INVALID_MESSAGE,
    INVALID_QUEUE_NAME,
    INVALID_REQUEST,
    UNAUTHORIZED,
    BAD_CREDENTIALS,
    FORBIDDEN,
    QUEUE_NOT_FOUND,
    ROUTE_NOT_FOUND,
    METHOD_NOT_ALLOWED,
    QUEUE_EXISTS,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    SCHEMA_VIOLATION,
    QUEUE_FULL,
    TOO_MANY_ATTEMPTS,
    DISK_FULL,
    UNAVAILABLE,
    INTERNAL
}
