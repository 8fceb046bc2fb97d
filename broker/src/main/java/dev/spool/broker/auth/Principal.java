package dev.spool.broker.auth;

import java.time.Instant;
import java.util.Objects;

/** A signed-in user, as a token resolves to. */
public record Principal(String username, Role role, Instant expiresAt) {
    public Principal {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(expiresAt, "expiresAt");
    }
}
