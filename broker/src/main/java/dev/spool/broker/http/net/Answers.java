package dev.spool.broker.http.net;

/**
 * What the listener answers by itself, on the wire, where no handler runs: whole HTTP responses (problem+json, then
 * the connection closes), made by the API layer, which defines the problems.
 *
 * @param malformedHead a request head Undertow cannot parse
 * @param malformedHost a missing, repeated or malformed Host header
 * @param malformedBody a body whose chunked framing is broken
 * @param slowBody      a body not received within {@code server.body_timeout_ms}
 * @param largeHead     a head over {@code server.max_header_bytes}
 * @param full          at {@code server.max_connections} with every connection in a request
 */
public record Answers(byte[] malformedHead, byte[] malformedHost, byte[] malformedBody, byte[] slowBody,
                      byte[] largeHead, byte[] full) {
}
