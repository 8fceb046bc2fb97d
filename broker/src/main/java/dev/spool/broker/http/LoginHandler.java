package dev.spool.broker.http;

import dev.spool.broker.audit.AuditNotes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.broker.auth.Account;
import dev.spool.broker.auth.Role;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/** {@code POST /login}: password check and a new token. Runs on a worker (hashing is slow). */
final class LoginHandler implements HttpHandler {
    private final Api api;

    LoginHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        if (Exchanges.hasBody(ex)) {
            Exchanges.requireJson(ex);
        }
        Exchanges.readBody(ex, Routes.MAX_OPEN_BODY_BYTES, this::login);
    }

    private void login(HttpServerExchange ex, byte[] body) throws Exception {
        JsonNode req = Json.parse(body);
        if (!req.isObject() || !req.path("username").isTextual() || !req.path("password").isTextual()) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "body must be {\"username\": str, \"password\": str}");
        }
        String username = req.get("username").asText();
        ObjectNode audit = Json.MAPPER.createObjectNode();
        audit.put("username", username);
        audit.put("password", "[REDACTED]");
        AuditNotes.of(ex).body(audit).user(username);
        // The client's address (behind a trusted proxy, the one it names), an IPv6 client counted by its /64.
        String address = ex.getSourceAddress() == null ? ""
                : dev.spool.broker.config.Cidr.group(ex.getSourceAddress().getAddress()).getHostAddress();
        long wait = api.logins().retryAfterSeconds(username, address);
        if (wait > 0) {
            // Refused before the password is checked: a guesser learns nothing while locked.
            throw new ApiException(ErrorCode.TOO_MANY_ATTEMPTS, "too many failed logins; retry in " + wait + " s", wait);
        }
        java.util.Optional<Account> authenticated = api.users().authenticate(username,
                req.get("password").asText().toCharArray());
        if (authenticated.isEmpty()) {
            api.logins().failed(username, address);
            throw new ApiException(ErrorCode.BAD_CREDENTIALS, "wrong username or password");
        }
        Account account = authenticated.get();
        if (!api.users().current(username).equals(authenticated)) {
            // Deleted or changed while its password was checked: the password checked is no longer the user's.
            api.logins().failed(username, address);
            throw new ApiException(ErrorCode.BAD_CREDENTIALS, "wrong username or password");
        }
        api.logins().succeeded(username, address);
        Role role = account.role();
        String token = api.tokens().issue(username, account);
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("token", token);
        out.put("role", role.code());
        out.put("role_name", role.name());
        out.put("username", username);
        out.put("token_type", "Bearer");
        out.put("expires_in", api.tokens().ttl().toSeconds());
        Json.send(ex, 200, out);
    }
}
