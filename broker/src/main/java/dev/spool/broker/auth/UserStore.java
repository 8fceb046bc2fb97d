package dev.spool.broker.auth;

import dev.spool.storage.AtomicFile;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The users file: YAML {@code users: {name: {role: AGENT, password: "pbkdf2-sha256$..."}}}, holding
 * salted slow hashes only. Thread-safe.
 */
public final class UserStore {
    private record User(Role role, String hash) {
    }

    private final Path file;
    private final Map<String, User> users = new ConcurrentHashMap<>();

    private UserStore(Path file) {
        this.file = file;
    }

    /** Loads the users file; an absent file gives an empty store. */
    public static UserStore load(Path file) throws IOException {
        UserStore s = new UserStore(file);
        if (!Files.exists(file)) {
            return s;
        }
        Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        if (!(root instanceof Map<?, ?> m) || !(m.get("users") instanceof Map<?, ?> us)) {
            throw new IOException("users file " + file + " must hold a 'users' mapping");
        }
        for (Map.Entry<?, ?> e : us.entrySet()) {
            if (!(e.getValue() instanceof Map<?, ?> u) || u.get("role") == null || u.get("password") == null) {
                throw new IOException("users file " + file + ": user '" + e.getKey() + "' needs role and password");
            }
            s.users.put(String.valueOf(e.getKey()),
                    new User(Role.parse(String.valueOf(u.get("role"))), String.valueOf(u.get("password"))));
        }
        return s;
    }

    public boolean exists() {
        return Files.exists(file);
    }

    public boolean isEmpty() {
        return users.isEmpty();
    }

    /** Adds or updates a user and rewrites the file atomically (owner-only, fsynced; see {@link AtomicFile}). */
    public synchronized void put(String username, Role role, char[] password) throws IOException {
        if (username == null || !username.matches("[A-Za-z0-9._@-]{1,64}")) {
            throw new IllegalArgumentException("username must be 1-64 of [A-Za-z0-9._@-], was '" + username + "'");
        }
        if (password.length == 0) {
            throw new IllegalArgumentException("password must not be empty");
        }
        users.put(username, new User(role, PasswordHasher.hash(password)));
        save();
    }

    /** The user's role if the password is right. Slow by design (PBKDF2). */
    public Optional<Role> authenticate(String username, char[] password) {
        User u = username == null ? null : users.get(username);
        if (u == null) {
            // Same cost as a real check, so timing does not reveal which usernames exist.
            PasswordHasher.verify(password, DUMMY_HASH);
            return Optional.empty();
        }
        return PasswordHasher.verify(password, u.hash()) ? Optional.of(u.role()) : Optional.empty();
    }

    /** Creates the first administrator with a random password, returned to be shown once. */
    public String createInitialAdmin() throws IOException {
        byte[] raw = new byte[18];
        new SecureRandom().nextBytes(raw);
        String password = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        put("admin", Role.ADMINISTRATOR, password.toCharArray());
        return password;
    }

    private void save() throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> us = new LinkedHashMap<>();
        users.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("role", e.getValue().role().name());
            u.put("password", e.getValue().hash());
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
    }

    private static final String DUMMY_HASH = PasswordHasher.hash("not-a-password".toCharArray());
}
