package dev.spool.broker.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.storage.SharedMap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The cluster's users, kept in a {@link SharedMap} (the same on every node); a cluster without users is seeded from
 * the users file. Changes made by any node arrive through the map's listener, so there is nothing to look at per
 * request. Nothing is reported as changed: in a cluster whoever changes a user revokes its sessions, which are the
 * cluster's too (a node revoking on seeing the change could revoke a session signed in after it).
 */
final class ClusterUsers implements UsersKept {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SharedMap map;
    private final Path seedFile;

    ClusterUsers(SharedMap map, Path seedFile) {
        this.map = map;
        this.seedFile = seedFile;
    }

    @Override
    public void load(Map<String, User> users) throws IOException {
        // A user written or removed by any node (this one included). The listener takes no lock: it runs on the
        // map's reader while a change made here holds the store's lock and waits for that reader to see it.
        map.subscribe((name, v) -> {
            if (v == null) {
                users.remove(name);
            } else {
                users.put(name, decode(v));
            }
        });
        map.snapshot().forEach((name, v) -> users.put(name, decode(v)));
        users.keySet().removeIf(name -> map.get(name) == null); // removed while the snapshot was loaded
        if (users.isEmpty()) {
            Map<String, User> seed = UsersFile.read(seedFile);
            seed.forEach((name, u) -> map.put(name, encode(u)));
            users.putAll(seed);
        }
    }

    private static byte[] encode(User u) {
        return ("{\"role\":\"" + u.role().name() + "\",\"password\":\"" + u.hash() + "\",\"generation\":"
                + u.generation() + "}").getBytes(StandardCharsets.UTF_8);
    }

    private static User decode(byte[] v) {
        try {
            JsonNode n = JSON.readTree(v);
            return new User(Role.parse(n.get("role").asText()), n.get("password").asText(),
                    n.path("generation").asLong(0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void refresh(Map<String, User> users, Set<String> changed) {
        // the map's listener keeps the users current
    }

    @Override
    public boolean mayHaveChanged() {
        return false;
    }

    @Override
    public <T> T locked(Change<T> change) throws IOException {
        return change.apply();
    }

    @Override
    public void save(String username, Map<String, User> users) {
        User u = users.get(username);
        if (u == null) {
            map.remove(username);
        } else {
            map.put(username, encode(u));
        }
    }

    @Override
    public boolean exists(Map<String, User> users) {
        return !users.isEmpty();
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public void sync() {
        map.sync();
    }
}
