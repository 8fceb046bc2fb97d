package dev.spool.broker.http;

import dev.spool.broker.audit.AuditNotes;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import io.undertow.server.HttpServerExchange;

/**
 * The users API, for administrators: {@code GET /users} (names and roles, never hashes), {@code POST /users/{name}}
 * {@code {"password","role"}}, {@code DELETE /users/{name}} and {@code PUT /users/{name}/password}
 * {@code {"password"}}. Deleting a user or changing its password revokes its tokens at once. Passwords never
 * reach the audit log. Runs on a worker (hashing is slow).
 */
final class UsersHandler {
    private final Api api;

    UsersHandler(Api api) {
        this.api = api;
    }

    void list(HttpServerExchange ex) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (UserStore.Entry u : api.users().list()) {
            out.addObject().put("username", u.username()).put("role", u.role().code()).put("role_name", u.role().name());
        }
        Json.send(ex, 200, out);
    }

    void create(HttpServerExchange ex) {
        String name = Exchanges.userName(ex);
        readJson(ex, (e, req) -> {
            if (!req.path("password").isTextual() || !(req.path("role").isTextual() || req.path("role").isInt())) {
                throw new ApiException(ErrorCode.INVALID_REQUEST,
                        "body must be {\"password\": str, \"role\": 0-3 or BASIC|ADMINISTRATOR|SECRETARY|AGENT}");
            }
            Role role;
            try {
                role = Role.parse(req.get("role").asText());
            } catch (IllegalArgumentException bad) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, bad.getMessage());
            }
            ObjectNode audit = Json.MAPPER.createObjectNode().put("role", role.code()).put("password", "[REDACTED]");
            AuditNotes.of(e).body(audit);
            if (!api.users().create(name, role, password(req))) {
                throw new ApiException(ErrorCode.USER_EXISTS, "user '" + name + "' exists; change its password with "
                        + "PUT /users/" + name + "/password, or delete it first");
            }
            Json.send(e, 201, Json.MAPPER.createObjectNode().put("result", "ok"));
        });
    }

    void delete(HttpServerExchange ex) throws Exception {
        String name = Exchanges.userName(ex);
        synchronized (api.users()) {
            if (api.users().isLastAdministrator(name)) {
                throw new ApiException(ErrorCode.LAST_ADMINISTRATOR, "user '" + name + "' is the last administrator; "
                        + "add another before deleting it");
            }
            if (!api.users().remove(name)) {
                throw new ApiException(ErrorCode.USER_NOT_FOUND, "user '" + name + "' does not exist");
            }
        }
        int revoked = api.tokens().revokeUser(name);
        Json.send(ex, 200, Json.MAPPER.createObjectNode().put("result", "ok").put("revoked_tokens", revoked));
    }

    void changePassword(HttpServerExchange ex) {
        String name = Exchanges.userName(ex);
        readJson(ex, (e, req) -> {
            if (!req.path("password").isTextual()) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "body must be {\"password\": str}");
            }
            AuditNotes.of(e).body(Json.MAPPER.createObjectNode().put("password", "[REDACTED]"));
            if (!api.users().changePassword(name, password(req))) {
                throw new ApiException(ErrorCode.USER_NOT_FOUND, "user '" + name + "' does not exist");
            }
            int revoked = api.tokens().revokeUser(name);
            Json.send(e, 200, Json.MAPPER.createObjectNode().put("result", "ok").put("revoked_tokens", revoked));
        });
    }

    private static char[] password(JsonNode req) {
        String p = req.get("password").asText();
        if (p.length() < UserStore.MIN_PASSWORD_LENGTH) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "the password must be at least "
                    + UserStore.MIN_PASSWORD_LENGTH + " characters");
        }
        return p.toCharArray();
    }

    private interface JsonBody {
        void handle(HttpServerExchange ex, JsonNode req) throws Exception;
    }

    /** Reads a JSON object body; the raw body never reaches the audit log (it holds a password). */
    private void readJson(HttpServerExchange ex, JsonBody then) {
        Exchanges.requireJson(ex);
        Exchanges.readBody(ex, api.maxMessageBytes(), (e, body) -> {
            JsonNode req = Json.parse(body);
            if (!req.isObject()) {
                throw new ApiException(ErrorCode.INVALID_REQUEST, "body must be a JSON object");
            }
            then.handle(e, req);
        });
    }
}
