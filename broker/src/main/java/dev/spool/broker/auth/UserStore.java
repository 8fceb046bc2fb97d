package dev.spool.broker.auth;

import dev.spool.broker.auth.UsersKept.User;
import dev.spool.storage.SharedMap;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The users: names, roles and salted slow hashes only, and a {@code generation} that every change to a user moves
 * (a session carries the generation it was signed in at, and ends when it no longer matches). Kept in the users
 * file ({@link UsersFile}), or in a cluster in a shared map ({@link ClusterUsers}), the same on every node, with the
 * file only seeding a cluster that has no users yet. Thread-safe.
 */
public final class UserStore {
    /** Passwords shorter than this are refused, by the API and the command line alike. */
    public static final int MIN_PASSWORD_LENGTH = 12;
    /** What a user name may be. */
    public static final String NAME_PATTERN = "[A-Za-z0-9._@-]{1,64}";
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * A hash to check unknown users' passwords against. Made off the start-up path (a PBKDF2 hash takes a cold JVM
     * a sixth of a second, while the listener answers 503): a thread started with the first store makes it.
     */
    private static final class Dummy {
        static final String HASH = PasswordHasher.hash("not-a-password".toCharArray());
    }

    static {
        // Class initialisation runs once; a login that needs it first waits for it.
        Thread warm = new Thread(() -> Dummy.HASH.length(), "spool-dummy-hash");
        warm.setDaemon(true);
        warm.start();
    }

    /** A user as the API shows it: never the hash. */
    public record Entry(String username, Role role) {
    }

    private final UsersKept kept;
    private final Map<String, User> users = new ConcurrentHashMap<>();
    /** Users changed or removed elsewhere, noticed by {@link #refresh} and not yet reported. */
    private final Set<String> changedOutside = new ConcurrentSkipListSet<>();

    private UserStore(UsersKept kept) throws IOException {
        this.kept = kept;
        kept.load(users);
    }

    /** Loads the users file; an absent file gives an empty store. */
    public static UserStore load(Path file) throws IOException {
        return new UserStore(new UsersFile(file));
    }

    /**
     * The cluster's users, kept in {@code map}. A cluster without users is seeded from {@code seedFile}, if it
     * exists; otherwise {@link #exists()} is false and the caller creates the first administrator.
     */
    public static UserStore shared(SharedMap map, Path seedFile) throws IOException {
        return new UserStore(new ClusterUsers(map, seedFile));
    }

    /**
     * Reads the users again if they were changed elsewhere (such as {@code user add} on the command line).
     *
     * @return the users removed or whose role or password changed (their tokens should go); empty if unchanged
     * @throws IOException if the changed file cannot be read (the users in memory are kept)
     */
    public synchronized Set<String> reloadIfChanged() throws IOException {
        refresh();
        Set<String> out = new TreeSet<>(changedOutside);
        changedOutside.clear();
        return out;
    }

    /**
     * Reads changes made elsewhere, noting the users they removed or changed. Every change made here first calls
     * it, so that writing never undoes another process's change (a user deleted with the command line stays
     * deleted). Caller holds the lock.
     */
    private void refresh() throws IOException {
        kept.refresh(users, changedOutside);
    }

    /**
     * The user as it is now: changes made elsewhere are read first (the users file is looked at, at most once a
     * millisecond). A session is checked against this on every request, so a change made anywhere ends the user's
     * sessions at once. In a cluster, the users as this node has read them.
     *
     * @throws IOException if the changed file cannot be read (the caller must not trust what it knew)
     */
    public Optional<Account> current(String username) throws IOException {
        if (kept.mayHaveChanged()) {
            synchronized (this) {
                refresh();
            }
        }
        User u = users.get(username);
        return u == null ? Optional.empty() : Optional.of(u.account());
    }

    /** In a cluster, returns once this node has read every change to the users made before the call. */
    public void sync() {
        kept.sync();
    }

    /** Every user with its role, by name. */
    public List<Entry> list() {
        return users.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> new Entry(e.getKey(), e.getValue().role())).toList();
    }

    /** The user's role, if the user exists. */
    public Optional<Role> roleOf(String username) {
        User u = users.get(username);
        return u == null ? Optional.empty() : Optional.of(u.role());
    }

    /** Adds a user; false (and nothing written) if the name is taken. */
    public boolean create(String username, Role role, char[] password) throws IOException {
        String hash = hash(username, password);
        return locked(() -> {
            refresh();
            if (users.containsKey(username)) {
                return false;
            }
            write(username, role, hash);
            return true;
        });
    }

    /** Sets a user's password; false if there is no such user. */
    public boolean changePassword(String username, char[] password) throws IOException {
        String hash = hash(password);
        return locked(() -> {
            refresh();
            if (!users.containsKey(username)) {
                return false;
            }
            write(username, users.get(username).role(), hash);
            return true;
        });
    }

    /** Whether {@code username} is the only administrator (deleting it would leave none). */
    public synchronized boolean isLastAdministrator(String username) throws IOException {
        refresh();
        return roleOf(username).orElse(null) == Role.ADMINISTRATOR
                && users.values().stream().filter(u -> u.role() == Role.ADMINISTRATOR).count() == 1;
    }

    /** Deletes a user; false if there was none. */
    public boolean remove(String username) throws IOException {
        return locked(() -> {
            refresh();
            if (users.remove(username) == null) {
                return false;
            }
            kept.save(username, users);
            return true;
        });
    }

    /** Whether there are users to sign in with: the file exists, or the cluster has users. */
    public boolean exists() {
        return kept.exists(users);
    }

    /** Whether the users are the cluster's rather than a file's. */
    public boolean isShared() {
        return kept.shared();
    }

    public boolean isEmpty() {
        return users.isEmpty();
    }

    /** Adds or updates a user and writes it (the file: atomically, owner-only, fsynced). */
    public void put(String username, Role role, char[] password) throws IOException {
        String hash = hash(username, password);
        locked(() -> {
            write(username, role, hash);
            return null;
        });
    }

    /**
     * Checks a new user's name and password and hashes the password. Slow (PBKDF2), so done before any lock:
     * the users' locks are then held for milliseconds, not for the hashing.
     */
    private static String hash(String username, char[] password) {
        if (username == null || !username.matches(NAME_PATTERN)) {
            throw new IllegalArgumentException("username must be 1-64 of [A-Za-z0-9._@-], was '" + username + "'");
        }
        return hash(password);
    }

    /** Checks a new password and hashes it (slow; before any lock). */
    private static String hash(char[] password) {
        if (password.length < MIN_PASSWORD_LENGTH) {
            throw new IllegalArgumentException("password must be at least " + MIN_PASSWORD_LENGTH + " characters");
        }
        return PasswordHasher.hash(password);
    }

    /** Sets a user's role and password hash, moving its generation, and saves it; the caller holds both locks. */
    private void write(String username, Role role, String hash) throws IOException {
        refresh();
        User old = users.get(username);
        users.put(username, new User(role, hash, nextGeneration(old == null ? 0 : old.generation())));
        kept.save(username, users);
    }

    /**
     * A generation after {@code previous}, and for a user added again after a delete (previous 0) one its deleted
     * namesake almost surely never had: microseconds of the clock with a random tail, so a session of the deleted
     * user does not come back to life when the name is reused.
     */
    static long nextGeneration(long previous) {
        long fresh = System.currentTimeMillis() * 1000 + RANDOM.nextInt(1000);
        return Math.max(previous + 1, fresh);
    }

    /**
     * The user's role and generation if the password is right. Slow by design (PBKDF2): the user may change while
     * it runs, so the session issued for it carries the generation the password was checked against, and is dead
     * if that generation is gone by the time it is used.
     */
    public Optional<Account> authenticate(String username, char[] password) throws IOException {
        User u = null;
        if (username != null && current(username).isPresent()) {
            u = users.get(username);
        }
        if (u == null) {
            // Same cost as a real check, so timing does not reveal which usernames exist.
            PasswordHasher.verify(password, Dummy.HASH);
            return Optional.empty();
        }
        return PasswordHasher.verify(password, u.hash()) ? Optional.of(u.account()) : Optional.empty();
    }

    /** Creates the first administrator with a random password, returned to be shown once. */
    public String createInitialAdmin() throws IOException {
        byte[] raw = new byte[18];
        RANDOM.nextBytes(raw);
        String password = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        put("admin", Role.ADMINISTRATOR, password.toCharArray());
        return password;
    }

    /** Runs a change holding this store's lock and whatever the users' keeping holds against other writers. */
    private synchronized <T> T locked(UsersKept.Change<T> change) throws IOException {
        return kept.locked(change);
    }
}
