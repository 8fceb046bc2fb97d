package dev.spool.broker.http;

import dev.spool.broker.http.net.GuardedConnection;
import dev.spool.broker.audit.AuditNotes;
import dev.spool.broker.auth.Principal;
import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.TokenService;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

import java.util.EnumSet;
import java.util.Set;

/**
 * The one auth wrapper: resolves the token (raw or {@code Bearer}) and checks the route's roles before
 * anything else about the request is looked at.
 */
final class Secured implements HttpHandler {
    private final TokenService tokens;
    private final Set<Role> roles;
    private final HttpHandler next;

    Secured(TokenService tokens, Set<Role> roles, HttpHandler next) {
        this.tokens = tokens;
        this.roles = EnumSet.copyOf(roles);
        this.next = next;
    }

    static String token(HttpServerExchange ex) {
        String h = ex.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (h == null) {
            return null;
        }
        h = h.trim();
        if (h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            h = h.substring(7).trim();
        }
        return h.isEmpty() ? null : h;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) throws Exception {
        String token = token(ex);
        if (token == null) {
            throw new ApiException(ErrorCode.UNAUTHORIZED, "an Authorization header with a token is required");
        }
        GuardedConnection connection = GuardedConnection.of(ex);
        // A keep-alive connection sends the same token with every request: its hash is worked out once.
        String hash = connection != null ? connection.tokenHash(token) : TokenService.hash(token);
        java.util.Optional<Principal> here = tokens.resolveHashed(hash);
        if (here.isEmpty() && tokens.sharedWithOtherNodes() && ex.isInIoThread()) {
            // Perhaps issued on another node a moment ago: looking it up waits for Kafka, so not on an IO thread.
            ex.dispatch(new ErrorBoundary(this));
            return;
        }
        Principal p = here.or(() -> tokens.resolve(token)).orElseThrow(() ->
                new ApiException(ErrorCode.UNAUTHORIZED, "the token is unknown, revoked or expired"));
        AuditNotes.of(ex).signedIn(p);
        if (!roles.contains(p.role())) {
            throw new ApiException(ErrorCode.FORBIDDEN, "role " + p.role() + " may not " + ex.getRequestMethod()
                    + " " + ex.getRequestPath());
        }
        next.handleRequest(ex);
    }
}
