package dev.spool.broker.auth;

import dev.spool.storage.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class LoginGuardTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T00:00:00Z"));
    private final LoginGuard guard = new LoginGuard(clock);

    @Test
    void aFewTyposShouldBeFreeThenDelaysShouldDouble() {
        for (int i = 0; i < LoginGuard.FREE_PER_USER; i++) {
            assertEquals(0, guard.retryAfterSeconds("ann", "10.0.0.1"));
            guard.failed("ann", "10.0.0.1");
        }
        assertEquals(0, guard.retryAfterSeconds("ann", "10.0.0.1"), "the free attempts are used, none locked yet");
        guard.failed("ann", "10.0.0.1");
        assertEquals(1, guard.retryAfterSeconds("ann", "10.0.0.1"));
        clock.advance(Duration.ofSeconds(1));
        assertEquals(0, guard.retryAfterSeconds("ann", "10.0.0.1"));
        guard.failed("ann", "10.0.0.1");
        assertEquals(2, guard.retryAfterSeconds("ann", "10.0.0.1"), "each failure doubles the lock");
    }

    @Test
    void anotherAddressShouldNotBeLockedByThisOnesGuesses() {
        for (int i = 0; i < 10; i++) {
            guard.failed("ann", "10.0.0.1");
        }
        assertTrue(guard.retryAfterSeconds("ann", "10.0.0.1") > 0);
        assertEquals(0, guard.retryAfterSeconds("ann", "10.0.0.2"), "the right password from elsewhere still works");
    }

    @Test
    void oneAddressGuessingManyUsersShouldBeLocked() {
        for (int i = 0; i <= LoginGuard.FREE_PER_ADDRESS; i++) {
            guard.failed("user" + i, "10.0.0.9");
        }
        assertTrue(guard.retryAfterSeconds("someone-else", "10.0.0.9") > 0);
    }

    @Test
    void aSuccessShouldForgetThatUsersFailuresFromThatAddress() {
        for (int i = 0; i < LoginGuard.FREE_PER_USER; i++) {
            guard.failed("ann", "10.0.0.1");
        }
        guard.succeeded("ann", "10.0.0.1");
        guard.failed("ann", "10.0.0.1");
        assertEquals(0, guard.retryAfterSeconds("ann", "10.0.0.1"));
    }

    @Test
    void locksShouldNeverExceedTheMaximum() {
        for (int i = 0; i < 100; i++) {
            guard.failed("ann", "10.0.0.1");
        }
        assertTrue(guard.retryAfterSeconds("ann", "10.0.0.1") <= LoginGuard.MAX_LOCK.toSeconds());
    }

    @Test
    void aUserShouldHoldAtMostTheTokenCapTheOldestGoingFirst(@TempDir Path dir) throws Exception {
        TokenService tokens = new TokenService(dir.resolve("tokens.json"), Duration.ofHours(1), clock);
        String first = tokens.issue("ann", new Account(Role.AGENT, 0));
        for (int i = 1; i < TokenService.MAX_TOKENS_PER_USER; i++) {
            clock.advance(Duration.ofMillis(1));
            tokens.issue("ann", new Account(Role.AGENT, 0));
        }
        assertTrue(tokens.resolve(first).isPresent(), "at the cap, all are live");
        String other = tokens.issue("bob", new Account(Role.AGENT, 0));
        clock.advance(Duration.ofMillis(1));
        tokens.issue("ann", new Account(Role.AGENT, 0));
        assertTrue(tokens.resolve(first).isEmpty(), "the oldest was revoked to make room");
        assertTrue(tokens.resolve(other).isPresent(), "another user's tokens are untouched");
    }
}
