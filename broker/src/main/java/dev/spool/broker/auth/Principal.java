package dev.spool.broker.auth;

import java.time.Instant;
import java.util.Objects;

/**
 * A signed-in user, as a token resolves to: valid until {@code expiresAt} and while the user's generation is still
 * {@code generation} (see {@link Account}).
 */
public record Principal(String username, Role role, Instant expiresAt, long generation) {
    public Principal {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }

    /** Whether the user is still as this session was signed in: same role, same generation. */
    boolean matches(Account now) {
        return now.role() == role && now.generation() == generation;
    }
}
