package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10, users live: the admin users API, and users file changes taking effect without a restart. */
@Timeout(60)
class UsersApiTest {
    private static final String CAROL = "carol-password-1";
    private static final String CAROL2 = "carol-password-2";

    @TempDir
    Path dir;

    private static HttpResponse<String> login(TestBroker b, String user, String password) throws Exception {
        return b.send("POST", "/login", null, "{\"username\":\"" + user + "\",\"password\":\"" + password + "\"}");
    }

    private static String token(HttpResponse<String> login) throws Exception {
        assertEquals(200, login.statusCode(), login.body());
        return TestBroker.json(login).get("token").asText();
    }

    private static void assertCode(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(code, TestBroker.json(r).path("code").asText(), r.body());
    }

    @Test
    void administratorsShouldListCreateChangeAndDeleteUsers() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            HttpResponse<String> list = b.admin("GET", "/users", null);
            assertEquals(200, list.statusCode());
            JsonNode users = TestBroker.json(list);
            assertEquals(4, users.size(), list.body());
            for (JsonNode u : users) {
                assertEquals(Role.parse(u.get("role_name").asText()).code(), u.get("role").asInt());
                assertFalse(u.has("password") || u.has("hash"), "never a hash: " + u);
            }
            assertFalse(list.body().contains("pbkdf2"));
            for (Role r : new Role[]{Role.AGENT, Role.SECRETARY, Role.BASIC}) {
                assertCode(b.as(r, "GET", "/users", null), 403, "FORBIDDEN");
                assertCode(b.as(r, "POST", "/users/x", "{\"password\":\"" + CAROL + "\",\"role\":3}"), 403, "FORBIDDEN");
            }

            HttpResponse<String> shortPw = b.admin("POST", "/users/carol", "{\"password\":\"short\",\"role\":3}");
            assertCode(shortPw, 400, "INVALID_REQUEST");
            assertTrue(TestBroker.json(shortPw).path("detail").asText().contains("at least 12 characters"));
            assertCode(b.admin("POST", "/users/carol", "{\"password\":\"" + CAROL + "\",\"role\":7}"), 400, "INVALID_REQUEST");
            assertEquals(201, b.admin("POST", "/users/carol", "{\"password\":\"" + CAROL + "\",\"role\":3}").statusCode());
            assertEquals(201, b.admin("POST", "/users/dave", "{\"password\":\"" + CAROL + "\",\"role\":\"secretary\"}").statusCode());
            assertCode(b.admin("POST", "/users/carol", "{\"password\":\"" + CAROL + "\",\"role\":3}"), 409, "USER_EXISTS");
            assertCode(b.admin("POST", "/users/a%2Fb", "{\"password\":\"" + CAROL + "\",\"role\":3}"), 400, "INVALID_REQUEST");
            HttpResponse<String> carolLogin = login(b, "carol", CAROL);
            assertEquals(3, TestBroker.json(carolLogin).get("role").asInt());
            assertEquals(2, TestBroker.json(login(b, "dave", CAROL)).get("role").asInt());
            String carol = token(carolLogin);
            assertEquals(200, b.send("GET", "/queues", carol, null).statusCode());

            HttpResponse<String> changed = b.admin("PUT", "/users/carol/password", "{\"password\":\"" + CAROL2 + "\"}");
            assertEquals(200, changed.statusCode(), changed.body());
            assertEquals(1, TestBroker.json(changed).get("revoked_tokens").asInt());
            assertCode(b.send("GET", "/queues", carol, null), 401, "UNAUTHORIZED");
            assertCode(login(b, "carol", CAROL), 401, "BAD_CREDENTIALS");
            carol = token(login(b, "carol", CAROL2));
            assertCode(b.admin("PUT", "/users/nobody/password", "{\"password\":\"" + CAROL2 + "\"}"), 404, "USER_NOT_FOUND");

            assertEquals(200, b.admin("DELETE", "/users/carol", null).statusCode());
            assertCode(b.send("GET", "/queues", carol, null), 401, "UNAUTHORIZED");
            assertCode(login(b, "carol", CAROL2), 401, "BAD_CREDENTIALS");
            assertCode(b.admin("DELETE", "/users/carol", null), 404, "USER_NOT_FOUND");
            assertCode(b.admin("DELETE", "/users/administrator", null), 409, "LAST_ADMINISTRATOR");
        }
        String audit = Files.readString(dir.resolve("message_queue.log"));
        assertFalse(audit.contains(CAROL) || audit.contains(CAROL2), "no password in the audit log");
        assertTrue(audit.contains("/users/carol/password"), "the calls are audited");
    }

    @Test
    void aUsersFileChangedByAnotherProcessShouldTakeEffectWithoutARestart() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            Path file = dir.resolve("users.yaml");
            // What `user add` does from another process while the broker runs.
            UserStore.load(file).put("erin", Role.AGENT, "erin-password-1".toCharArray());
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            // Watched, not guessed at: failed logins would lock the name (LoginGuard).
            while (!b.admin("GET", "/users", null).body().contains("\"erin\"") && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            String token = token(login(b, "erin", "erin-password-1"));
            assertEquals(200, b.send("GET", "/queues", token, null).statusCode());

            UserStore.load(file).remove("erin");
            deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            int status = 200;
            while (status == 200 && System.nanoTime() < deadline) {
                status = b.send("GET", "/queues", token, null).statusCode();
            }
            assertEquals(401, status, "a user removed from the file loses its tokens");
        }
    }
}
