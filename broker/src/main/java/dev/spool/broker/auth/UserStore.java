package dev.spool.broker.auth;

import dev.spool.storage.AtomicFile;
import dev.spool.storage.SharedMap;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The users file: YAML {@code users: {name: {role: AGENT, password: "pbkdf2-sha256$..."}}}, holding
 * salted slow hashes only, and a {@code generation} that every change to the user moves (a session carries the
 * generation it was signed in at, and ends when it no longer matches). In a cluster ({@link #shared}) the users live in a {@link SharedMap} instead, the
 * same on every node, and the file only seeds a cluster that has no users yet. Thread-safe.
 */
public final class UserStore {
    private record User(Role role, String hash, long generation) {
        Account account() {
            return new Account(role, generation);
        }
    }

    /** Passwords shorter than this are refused, by the API and the command line alike. */
    public static final int MIN_PASSWORD_LENGTH = 12;
    /** What a user name may be. */
    public static final String NAME_PATTERN = "[A-Za-z0-9._@-]{1,64}";

    /** A user as the API shows it: never the hash. */
    public record Entry(String username, Role role) {
    }

    /** One monitor per users file's lock file, for the stores of one process. */
    private static final Map<Path, Object> FILE_LOCKS = new ConcurrentHashMap<>();

    private final Path file;
    private final Map<String, User> users = new ConcurrentHashMap<>();
    /** When {@link #current} last looked at the file (System.nanoTime). */
    private volatile long lookedAt = System.nanoTime() - LOOK_EVERY_NANOS - 1;
    private static final long LOOK_EVERY_NANOS = 1_000_000;

    /** What the file looked like when last read or written, to notice another process's change. */
    private volatile Stamp seen = Stamp.ABSENT;
    /** Users another process removed or changed, noticed by {@link #refresh} and not yet reported. */
    private final java.util.Set<String> changedOutside = new java.util.concurrent.ConcurrentSkipListSet<>();

    /** The cluster's users, or null when they are kept in the file. */
    private SharedMap shared;

    private UserStore(Path file) {
        this.file = file;
    }

    /**
     * The cluster's users, kept in {@code map}. A cluster without users is seeded from {@code seedFile}, if it
     * exists; otherwise {@link #exists()} is false and the caller creates the first administrator.
     */
    public static UserStore shared(SharedMap map, Path seedFile) throws IOException {
        UserStore s = new UserStore(seedFile);
        map.subscribe((name, v) -> s.changedInCluster(name, v));
        map.snapshot().forEach((name, v) -> s.users.put(name, decode(v)));
        s.users.keySet().removeIf(name -> map.get(name) == null); // removed while the snapshot was loaded
        s.shared = map;
        if (s.users.isEmpty()) {
            Map<String, User> seed = read(seedFile);
            seed.forEach((name, u) -> map.put(name, encode(u)));
            s.users.putAll(seed);
        }
        return s;
    }

    /**
     * A user written or removed by any node (this one included). Not synchronized: it runs on the map's reader
     * while a change made here holds the lock and waits for that reader to see it. Nothing is reported to
     * {@link #reloadIfChanged}: in a cluster whoever changes a user revokes its sessions, which are the cluster's
     * too (a node revoking on seeing the change could revoke a session signed in after it).
     */
    private void changedInCluster(String name, byte[] v) {
        if (v == null) {
            users.remove(name);
        } else {
            users.put(name, decode(v));
        }
    }

    private static byte[] encode(User u) {
        return ("{\"role\":\"" + u.role().name() + "\",\"password\":\"" + u.hash() + "\",\"generation\":"
                + u.generation() + "}").getBytes(StandardCharsets.UTF_8);
    }

    private static User decode(byte[] v) {
        try {
            com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(v);
            return new User(Role.parse(n.get("role").asText()), n.get("password").asText(),
                    n.path("generation").asLong(0));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Loads the users file; an absent file gives an empty store. */
    public static UserStore load(Path file) throws IOException {
        UserStore s = new UserStore(file);
        s.seen = s.fingerprint();
        s.users.putAll(read(file));
        return s;
    }

    private static Map<String, User> read(Path file) throws IOException {
        Map<String, User> out = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        if (!(root instanceof Map<?, ?> m) || !(m.get("users") instanceof Map<?, ?> us)) {
            throw new IOException("users file " + file + " must hold a 'users' mapping");
        }
        for (Map.Entry<?, ?> e : us.entrySet()) {
            if (!(e.getValue() instanceof Map<?, ?> u) || u.get("role") == null || u.get("password") == null) {
                throw new IOException("users file " + file + ": user '" + e.getKey() + "' needs role and password");
            }
            long generation;
            try {
                generation = u.get("generation") == null ? 0 : Long.parseLong(String.valueOf(u.get("generation")));
            } catch (NumberFormatException bad) {
                throw new IOException("users file " + file + ": user '" + e.getKey() + "' has a generation that is "
                        + "not a number");
            }
            out.put(String.valueOf(e.getKey()), new User(Role.parse(String.valueOf(u.get("role"))),
                    String.valueOf(u.get("password")), generation));
        }
        return out;
    }

    /** A file's modification time, size and identity (every write replaces the file, so the identity moves). */
    private record Stamp(java.nio.file.attribute.FileTime modified, long size, Object key) {
        static final Stamp ABSENT = new Stamp(null, -1, null);
    }

    /** What the file looks like now: one {@code stat}. */
    private Stamp fingerprint() throws IOException {
        try {
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(file,
                    java.nio.file.attribute.BasicFileAttributes.class);
            return new Stamp(a.lastModifiedTime(), a.size(), a.fileKey());
        } catch (java.nio.file.NoSuchFileException gone) {
            return Stamp.ABSENT;
        }
    }

    /**
     * Reads the file again if another process (such as {@code user add}) changed it since this store last read or
     * wrote it.
     *
     * @return the users removed or whose role or password changed (their tokens should go); empty if unchanged
     * @throws IOException if the changed file cannot be read (the users in memory are kept)
     */
    public synchronized java.util.Set<String> reloadIfChanged() throws IOException {
        refresh();
        java.util.Set<String> out = new java.util.TreeSet<>(changedOutside);
        changedOutside.clear();
        return out;
    }

    /**
     * Reads the file again if another process changed it, noting the users it removed or changed. Every change
     * made here first calls it, so that writing the file never undoes another process's change (a user deleted
     * with the command line stays deleted). Caller holds the lock.
     */
    private void refresh() throws IOException {
        if (shared != null) {
            return; // the map's listener keeps the users current
        }
        Stamp now = fingerprint();
        if (now.equals(seen)) {
            return;
        }
        Map<String, User> fresh = read(file);
        seen = now;
        for (Map.Entry<String, User> e : users.entrySet()) {
            if (!e.getValue().equals(fresh.get(e.getKey()))) {
                changedOutside.add(e.getKey());
            }
        }
        users.keySet().retainAll(fresh.keySet());
        users.putAll(fresh);
    }

    /** Every user with its role, by name. */
    public java.util.List<Entry> list() {
        return users.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> new Entry(e.getKey(), e.getValue().role())).toList();
    }

    /**
     * The user as it is now: the file is looked at (one {@code stat}, at most once a millisecond) and read again if
     * another process, such as {@code user delete} on the command line, changed it since. A session is checked against this on every request,
     * so a change made anywhere ends the user's sessions at once. In a cluster, the users as this node has read them.
     *
     * @throws IOException if the changed file cannot be read (the caller must not trust what it knew)
     */
    public Optional<Account> current(String username) throws IOException {
        if (shared == null) {
            long now = System.nanoTime();
            // At most one look a millisecond: at tens of thousands of requests a second, one stat each would cost
            // more than the rest of the check, and a change is still seen within a millisecond of its rename.
            if (now - lookedAt > LOOK_EVERY_NANOS) {
                lookedAt = now;
                if (!fingerprint().equals(seen)) {
                    synchronized (this) {
                        refresh();
                    }
                }
            }
        }
        User u = users.get(username);
        return u == null ? Optional.empty() : Optional.of(u.account());
    }

    /** In a cluster, returns once this node has read every change to the users made before the call. */
    public void sync() {
        if (shared != null) {
            shared.sync();
        }
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
            save(username);
            return true;
        });
    }

    /** Whether there are users to sign in with: the file exists, or the cluster has users. */
    public boolean exists() {
        return shared != null ? !users.isEmpty() : Files.exists(file);
    }

    /** Whether the users are the cluster's rather than a file's. */
    public boolean isShared() {
        return shared != null;
    }

    public boolean isEmpty() {
        return users.isEmpty();
    }

    /** Adds or updates a user and rewrites the file atomically (owner-only, fsynced; see {@link AtomicFile}). */
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
        save(username);
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

    private static final SecureRandom RANDOM = new SecureRandom();

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
            PasswordHasher.verify(password, DUMMY_HASH);
            return Optional.empty();
        }
        return PasswordHasher.verify(password, u.hash()) ? Optional.of(u.account()) : Optional.empty();
    }

    /** Creates the first administrator with a random password, returned to be shown once. */
    public String createInitialAdmin() throws IOException {
        byte[] raw = new byte[18];
        new SecureRandom().nextBytes(raw);
        String password = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        put("admin", Role.ADMINISTRATOR, password.toCharArray());
        return password;
    }

    /** A change to the users, read and written under the file's lock. */
    @FunctionalInterface
    private interface Change<T> {
        T apply() throws IOException;
    }

    /**
     * Runs a change holding this store's lock and the users file's lock ({@code <file>.lock}, an OS file lock), so
     * that this broker and a {@code user add} in another process never both read, change and rewrite the file: one
     * would undo the other's change. A file lock belongs to the whole JVM, so stores of one file in one process
     * also queue on a monitor. In a cluster the users are not in a file and no file is locked.
     */
    private synchronized <T> T locked(Change<T> change) throws IOException {
        if (shared != null) {
            return change.apply();
        }
        Path abs = file.toAbsolutePath().normalize();
        Files.createDirectories(abs.getParent());
        Path lockFile = abs.resolveSibling(abs.getFileName() + ".lock");
        synchronized (FILE_LOCKS.computeIfAbsent(lockFile, k -> new Object())) {
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ch.lock(); // released when the channel closes
                return change.apply();
            }
        }
    }

    /** Writes a change to one user: to the cluster's map, or the whole file rewritten. */
    private void save(String username) throws IOException {
        if (shared != null) {
            User u = users.get(username);
            if (u == null) {
                shared.remove(username);
            } else {
                shared.put(username, encode(u));
            }
            return;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> us = new LinkedHashMap<>();
        users.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("role", e.getValue().role().name());
            u.put("password", e.getValue().hash());
            u.put("generation", e.getValue().generation());
            us.put(e.getKey(), u);
        });
        out.put("users", us);
        DumperOptions opts = new DumperOptions();
        opts.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        String text = "# Spool users: salted PBKDF2 hashes. Edit with `spool-broker.jar user add`.\n"
                + new Yaml(opts).dump(out);
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        // Hashes are secrets too (offline guessing): owner-only, and durable once `user add` returns.
        AtomicFile.writeOwnerOnly(abs, text.getBytes(StandardCharsets.UTF_8));
        seen = fingerprint();
    }

    private static final String DUMMY_HASH = PasswordHasher.hash("not-a-password".toCharArray());
}
