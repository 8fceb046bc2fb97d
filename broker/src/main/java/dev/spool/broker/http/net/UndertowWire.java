package dev.spool.broker.http.net;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * What Spool relies on about Undertow 2.4's own answers and messages, in one place: the exact bytes of the fixed
 * answers it writes without a handler, and the message id of its one failure a handler must tell apart. A new
 * Undertow version is checked against these (ParserEdgeTest, HostileInputTest fail if they change).
 */
public final class UndertowWire {
    /** What Undertow writes for a request head it cannot parse ({@code HttpReadListener.BAD_REQUEST}). */
    static final byte[] BAD_REQUEST =
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /**
     * The status lines of the empty 400s Undertow's {@code HostHeaderHandler} answers (it is installed whatever the
     * options say): a missing, repeated or malformed Host header.
     */
    static final byte[][] HOST_400 = {
            "HTTP/1.1 400 No Host Header\r\n".getBytes(StandardCharsets.US_ASCII),
            "HTTP/1.1 400 Only One Host Header Allowed\r\n".getBytes(StandardCharsets.US_ASCII),
            "HTTP/1.1 400 Host Header Malformed".getBytes(StandardCharsets.US_ASCII)};
    /** Undertow's message id for a request body over {@code MAX_ENTITY_SIZE}. */
    private static final String ENTITY_TOO_LARGE = "UT000020";

    private UndertowWire() {
    }

    /** Whether a failed body read is Undertow refusing a body over its size limit. */
    public static boolean entityTooLarge(IOException e) {
        return e.getMessage() != null && e.getMessage().contains(ENTITY_TOO_LARGE);
    }
}
