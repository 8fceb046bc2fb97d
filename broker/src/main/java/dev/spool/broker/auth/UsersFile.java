package dev.spool.broker.auth;

import dev.spool.storage.AtomicFile;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Users kept in the users file: YAML {@code users: {name: {role: AGENT, password: "pbkdf2-sha256$...",
 * generation: N}}}. Another process (the command line's {@code user add}) may change it while the broker runs: every
 * change here holds {@code <file>.lock} while it reads, changes and rewrites the file, and the file is looked at (one
 * {@code stat}, at most once a millisecond) before a session is trusted.
 */
final class UsersFile implements UsersKept {
    /** One monitor per users file's lock file, for the stores of one process. */
    private static final Map<Path, Object> FILE_LOCKS = new ConcurrentHashMap<>();
    private static final long LOOK_EVERY_NANOS = 1_000_000;

    private final Path file;
    /** What the file looked like when last read or written, to notice another process's change. */
    private volatile Stamp seen = Stamp.ABSENT;
    /** When {@link #mayHaveChanged} last looked at the file (System.nanoTime). */
    private volatile long lookedAt = System.nanoTime() - LOOK_EVERY_NANOS - 1;

    UsersFile(Path file) {
        this.file = file;
    }

    /** A file's modification time, size and identity (every write replaces the file, so the identity moves). */
    private record Stamp(FileTime modified, long size, Object key) {
        static final Stamp ABSENT = new Stamp(null, -1, null);
    }

    /** What the file looks like now: one {@code stat}. */
    private Stamp stamp() throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new Stamp(a.lastModifiedTime(), a.size(), a.fileKey());
        } catch (NoSuchFileException gone) {
            return Stamp.ABSENT;
        }
    }

    @Override
    public void load(Map<String, User> users) throws IOException {
        seen = stamp();
        users.putAll(read(file));
    }

    /** The users a file holds; an absent file holds none. */
    static Map<String, User> read(Path file) throws IOException {
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

    @Override
    public void refresh(Map<String, User> users, Set<String> changed) throws IOException {
        Stamp now = stamp();
        if (now.equals(seen)) {
            return;
        }
        Map<String, User> fresh = read(file);
        seen = now;
        for (Map.Entry<String, User> e : users.entrySet()) {
            if (!e.getValue().equals(fresh.get(e.getKey()))) {
                changed.add(e.getKey());
            }
        }
        users.keySet().retainAll(fresh.keySet());
        users.putAll(fresh);
    }

    @Override
    public boolean mayHaveChanged() throws IOException {
        long now = System.nanoTime();
        // At most one look a millisecond: at tens of thousands of requests a second, one stat each would cost more
        // than the rest of the check, and a change is still seen within a millisecond of its rename.
        if (now - lookedAt <= LOOK_EVERY_NANOS) {
            return false;
        }
        lookedAt = now;
        return !stamp().equals(seen);
    }

    /**
     * Holds the users file's lock ({@code <file>.lock}, an OS file lock), so that this broker and a {@code user add}
     * in another process never both read, change and rewrite the file: one would undo the other's change. A file
     * lock belongs to the whole JVM, so stores of one file in one process also queue on a monitor.
     */
    @Override
    public <T> T locked(Change<T> change) throws IOException {
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

    /** Rewrites the whole file atomically (owner-only, fsynced; see {@link AtomicFile}). */
    @Override
    public void save(String username, Map<String, User> users) throws IOException {
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
        seen = stamp();
    }

    @Override
    public boolean exists(Map<String, User> users) {
        return Files.exists(file);
    }

    @Override
    public boolean shared() {
        return false;
    }

    @Override
    public void sync() {
        // the file is looked at on every check
    }
}
