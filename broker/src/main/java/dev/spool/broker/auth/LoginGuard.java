package dev.spool.broker.auth;

import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * Slows password guessing down. Failed logins are counted per user and client address, and per client
 * address; past a few free attempts, each further failure locks that key for twice as long as the last
 * (up to {@link #MAX_LOCK}), and a login under a locked key is refused before its password is checked.
 * Another address is not locked by someone else's guesses, so the right password from there still works. A user
 * is also counted across every address, softly ({@link #FREE_PER_USER_ANYWHERE} free, locks of at most
 * {@link #MAX_SOFT_LOCK}): a guesser spread over many addresses is slowed, and the user is never locked out for long.
 * Addresses are as the caller groups them (an IPv6 client by its /64).
 * A success clears its user-and-address key. Driven by a {@link Clock}; bounded in memory.
 *
 * <p>Thread-safe (logins run on worker threads).
 */
public final class LoginGuard {
    /** Failures a user may make from one address before delays start: typos are free. */
    static final int FREE_PER_USER = 5;
    /** Failures one address may make across all users before delays start. */
    static final int FREE_PER_ADDRESS = 20;
    /** Failures against one user from all addresses together before (soft) delays start. */
    static final int FREE_PER_USER_ANYWHERE = 50;
    /** The longest lock of the per-user count across addresses. */
    static final Duration MAX_SOFT_LOCK = Duration.ofMinutes(1);
    /** The longest lock: a guesser gets at most about four tries an hour per key once here. */
    static final Duration MAX_LOCK = Duration.ofMinutes(15);
    /** Keys remembered at most (the least recently failed go first). */
    static final int MAX_KEYS = 100_000;

    private static final class Failures {
        int count;
        long lockedUntil;
        long last;
    }

    private final Clock clock;
    private final LinkedHashMap<String, Failures> failures = new LinkedHashMap<>(16, 0.75f, true);

    public LoginGuard(Clock clock) {
        this.clock = clock;
    }

    /** Seconds until a login by {@code user} from {@code address} may be tried, or 0 if it may now. */
    public synchronized long retryAfterSeconds(String user, String address) {
        long now = clock.millis();
        long until = Math.max(Math.max(lockedUntil(userKey(user, address)), lockedUntil(addressKey(address))),
                lockedUntil(anywhereKey(user)));
        return until <= now ? 0 : Math.max(1, (until - now + 999) / 1000);
    }

    /** Records a failed login. */
    public synchronized void failed(String user, String address) {
        long now = clock.millis();
        bump(userKey(user, address), FREE_PER_USER, MAX_LOCK, now);
        bump(addressKey(address), FREE_PER_ADDRESS, MAX_LOCK, now);
        bump(anywhereKey(user), FREE_PER_USER_ANYWHERE, MAX_SOFT_LOCK, now);
        evict(now);
    }

    /** Records a successful login: that user's failures from that address are forgotten. */
    public synchronized void succeeded(String user, String address) {
        failures.remove(userKey(user, address));
    }

    private void bump(String key, int free, Duration maxLock, long now) {
        Failures f = failures.computeIfAbsent(key, k -> new Failures());
        if (f.last < now - MAX_LOCK.toMillis() * 2) {
            f.count = 0; // quiet for long enough: start again
        }
        f.count++;
        f.last = now;
        if (f.count > free) {
            long lock = Math.min(maxLock.toMillis(), 1000L << Math.min(20, f.count - free - 1));
            f.lockedUntil = now + lock;
        }
    }

    private long lockedUntil(String key) {
        Failures f = failures.get(key);
        return f == null ? 0 : f.lockedUntil;
    }

    /** Drops keys quiet for long and unlocked, and the least recently failed beyond {@link #MAX_KEYS}. */
    private void evict(long now) {
        Iterator<Failures> it = failures.values().iterator();
        while (it.hasNext()) {
            Failures f = it.next();
            boolean stale = f.lockedUntil <= now && f.last < now - MAX_LOCK.toMillis() * 2;
            if (failures.size() <= MAX_KEYS && !stale) {
                return;
            }
            it.remove();
        }
    }

    private static String userKey(String user, String address) {
        return "u\u0000" + user + "\u0000" + address;
    }

    private static String anywhereKey(String user) {
        return "s\u0000" + user;
    }

    private static String addressKey(String address) {
        return "a\u0000" + address;
    }
}
