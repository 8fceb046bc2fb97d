package dev.spool.broker.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Principal;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;

import java.nio.charset.StandardCharsets;

/**
 * What a request's handlers tell the audit log about it, beyond what the exchange itself says: who signed in, and
 * the body as the line may show it. One attachment that handlers fill, so the HTTP layer depends on the audit log
 * and not the other way round. Not thread-safe: filled on the request's own thread.
 */
public final class AuditNotes {
    private static final AttachmentKey<AuditNotes> KEY = AttachmentKey.create(AuditNotes.class);
    /**
     * What the line shows for a typed queue's body until it is valid: a rejected one may carry what the model forbids
     * ({@code customer.password}), so it is redacted like a credential.
     */
    private static final byte[] UNVALIDATED_TYPED_BODY = "[REDACTED: a typed queue's body is logged once it is valid]"
            .getBytes(StandardCharsets.US_ASCII);

    Principal principal;
    String user;
    JsonNode body;
    byte[] rawBody;
    byte[] textBody;
    Object metadata;

    private AuditNotes() {
    }

    /** The notes of this request, made on first use. */
    public static AuditNotes of(HttpServerExchange ex) {
        AuditNotes n = ex.getAttachment(KEY);
        if (n == null) {
            n = new AuditNotes();
            ex.putAttachment(KEY, n);
        }
        return n;
    }

    /** The notes of this request, or null if nothing was noted. */
    static AuditNotes peek(HttpServerExchange ex) {
        return ex.getAttachment(KEY);
    }

    /** The request's signed-in user. */
    public AuditNotes signedIn(Principal p) {
        principal = p;
        return this;
    }

    /** The user a request names before anyone is signed in (a login). */
    public AuditNotes user(String name) {
        user = name;
        return this;
    }

    /** The body as the line may show it (passwords already redacted). */
    public AuditNotes body(JsonNode shown) {
        body = shown;
        return this;
    }

    /**
     * A body not (or not yet) validated as one JSON value: written as an escaped string; for a typed queue
     * ({@code typed}) redacted until it is valid.
     */
    public AuditNotes unvalidated(byte[] raw, boolean typed) {
        textBody = typed ? UNVALIDATED_TYPED_BODY : raw;
        rawBody = null;
        return this;
    }

    /** The raw body, validated as one JSON value: copied into the line as it is. */
    public AuditNotes validated(byte[] raw) {
        rawBody = raw;
        textBody = null;
        return this;
    }

    /** A body valid as JSON text but not one value (NDJSON): written as an escaped string. */
    public AuditNotes text(byte[] raw) {
        textBody = raw;
        rawBody = null;
        return this;
    }

    /** The pushed message's metadata: a {@link JsonNode}, or its raw JSON ({@link AuditEvent.RawJson}). */
    public AuditNotes metadata(Object m) {
        metadata = m;
        return this;
    }
}
