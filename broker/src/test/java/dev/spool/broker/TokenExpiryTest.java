package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.storage.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TokenExpiryTest {
    @TempDir
    Path dir;

    @Test
    void tokenShouldExpireAfterTheConfiguredTtl() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-27T00:00:00Z"));
        try (TestBroker b = new TestBroker(dir, "auth_ttl_placeholder", clock)) {
            assertEquals(200, b.as(Role.BASIC, "GET", "/queues", null).statusCode());
            clock.advance(Duration.ofSeconds(59));
            assertEquals(200, b.as(Role.BASIC, "GET", "/queues", null).statusCode());
            clock.advance(Duration.ofSeconds(1));
            var r = b.as(Role.BASIC, "GET", "/queues", null);
            assertEquals(401, r.statusCode());
            assertEquals("UNAUTHORIZED", TestBroker.json(r).path("code").asText());
        }
    }
}
