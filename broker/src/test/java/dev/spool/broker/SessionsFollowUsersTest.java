package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.TokenService;
import dev.spool.broker.auth.UserStore;
import dev.spool.storage.ChildJvm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session follows its user: deleted, demoted or given a new password with the real command line, while a real
 * broker process runs or while it is stopped, the user's tokens stop working on the next request; a login whose
 * password check is under way when its user is deleted gets no token.
 */
@Timeout(240)
class SessionsFollowUsersTest {
    /**
     * A PBKDF2 hash of {@link #SLOW_PASSWORD} with 12 million iterations (a normal one has 210 thousand): checking
     * it keeps a login busy for seconds, long enough to delete the user with the command line meanwhile. Made once
     * with Python's {@code hashlib.pbkdf2_hmac}, in the users file's format.
     */
    private static final String SLOW_HASH =
            "pbkdf2-sha256$12000000$PlKvOFvurqEpmEbSkV1Acg$Ic7uKf553lGDug10l/7QWjeCooGQ47TTySaXL4Y00Z4";
    private static final String SLOW_PASSWORD = "slow-password-12345";

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newHttpClient();
    private final StringBuffer output = new StringBuffer();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killChildren() {
        started.forEach(Process::destroyForcibly);
    }

    private void setUp() throws Exception {
        Files.writeString(dir.resolve("config.yaml"), "server:\n  port: 0\n");
        UserStore users = UserStore.load(dir.resolve("users.yaml"));
        users.put("admin", Role.ADMINISTRATOR, TestBroker.PASSWORD.toCharArray());
        for (String u : List.of("ann", "bob", "cy")) {
            users.put(u, Role.AGENT, TestBroker.PASSWORD.toCharArray());
        }
    }

    private Process startBroker() throws Exception {
        ChildBrokers.Child c = ChildBrokers.start(dir.resolve("config.yaml"), started, output);
        port = c.port();
        return c.process();
    }

    private int port;

    /** Runs {@code spool-broker user ARGS --config ...} as its own process, with {@code stdin} as its input. */
    private void cli(String stdin, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("user"));
        command.addAll(List.of(args));
        command.addAll(List.of("--config", dir.resolve("config.yaml").toString()));
        Process p = new ProcessBuilder(ChildJvm.command(Main.class.getName(), command.toArray(String[]::new)))
                .redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "user " + String.join(" ", args) + ": " + out);
    }

    private HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        return ChildBrokers.call(http, port, method, path, token, body);
    }

    private String login(String user) throws Exception {
        HttpResponse<String> r = call("POST", "/login", null,
                "{\"username\":\"" + user + "\",\"password\":\"" + TestBroker.PASSWORD + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        return TestBroker.JSON.readTree(r.body()).get("token").asText();
    }

    /** The token is refused with 401 on a read, a push, a pull and a logout. */
    private void assertDead(String token, String who) throws Exception {
        for (String[] route : new String[][]{{"GET", "/queues", null}, {"GET", "/queues/jobs", null},
                {"POST", "/queues/jobs/messages", "{\"body\":{\"n\":1}}"}, {"GET", "/queues/jobs/messages", null},
                {"POST", "/logout", null}}) {
            HttpResponse<String> r = call(route[0], route[1], token, route[2]);
            assertEquals(401, r.statusCode(), who + ": " + route[0] + " " + route[1] + " answered " + r.body());
            assertTrue(r.body().contains("\"UNAUTHORIZED\""), r.body());
        }
    }

    private void assertLive(String token, String who) throws Exception {
        HttpResponse<String> r = call("GET", "/queues/jobs", token, null);
        assertEquals(200, r.statusCode(), who + ": " + r.body());
    }

    @Test
    void changesMadeWithTheCommandLineWhileTheBrokerRunsShouldEndTheUsersSessionsAtOnce() throws Exception {
        setUp();
        startBroker();
        String admin = login("admin");
        assertEquals(201, call("POST", "/queues/jobs", admin, null).statusCode());
        String ann = login("ann");
        String bob = login("bob");
        String cy = login("cy");
        assertLive(ann, "ann");
        assertLive(bob, "bob");
        assertLive(cy, "cy");

        // Each check follows the command's exit at once: no waiting for the broker's once-a-second look at the file.
        cli("", "delete", "ann");
        assertDead(ann, "ann, deleted");
        cli(TestBroker.PASSWORD + "\n", "add", "bob", "--role", "BASIC");
        assertDead(bob, "bob, demoted to BASIC");
        cli("another-password-1234\n", "passwd", "cy");
        assertDead(cy, "cy, whose password changed");

        // The name reused with the same password: the deleted user's session stays dead, a new login works.
        cli(TestBroker.PASSWORD + "\n", "add", "ann", "--role", "AGENT");
        assertDead(ann, "ann's old session, after ann was added again");
        assertLive(login("ann"), "ann, signed in again");
        assertLive(admin, "admin, unchanged");
    }

    @Test
    void changesMadeWhileTheBrokerIsStoppedShouldEndTheSessionsAndTheirRecordsAtStart() throws Exception {
        setUp();
        Process first = startBroker();
        String admin = login("admin");
        assertEquals(201, call("POST", "/queues/jobs", admin, null).statusCode());
        String ann = login("ann");
        String bob = login("bob");
        String cy = login("cy");
        first.destroy();
        assertTrue(first.waitFor(30, TimeUnit.SECONDS));

        cli("", "delete", "ann");
        cli(TestBroker.PASSWORD + "\n", "add", "bob", "--role", "SECRETARY");
        Process second = startBroker();
        assertDead(ann, "ann, deleted while stopped");
        assertDead(bob, "bob, changed to SECRETARY while stopped");
        assertLive(cy, "cy, unchanged");
        assertLive(admin, "admin, unchanged");

        // Dropped at start from the tokens files themselves, not only refused: read back without the users.
        TokenService onDisk = new TokenService(dir.resolve("data/tokens.json"), Duration.ofHours(1),
                Clock.systemUTC());
        assertFalse(onDisk.resolveHere(ann).isPresent(), "ann's session is still in the tokens files");
        assertFalse(onDisk.resolveHere(bob).isPresent(), "bob's session is still in the tokens files");
        assertTrue(onDisk.resolveHere(cy).isPresent(), "cy's session was dropped");
        second.destroy();
        assertTrue(second.waitFor(30, TimeUnit.SECONDS));
    }

    @Test
    void aLoginWhosePasswordCheckIsUnderWayWhenItsUserIsDeletedShouldGetNoToken() throws Exception {
        setUp();
        Path users = dir.resolve("users.yaml");
        Files.writeString(users, Files.readString(users) + "  slow:\n    role: AGENT\n    password: " + SLOW_HASH + "\n");
        startBroker();
        CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> {
            try {
                return call("POST", "/login", null,
                        "{\"username\":\"slow\",\"password\":\"" + SLOW_PASSWORD + "\"}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        cli("", "delete", "slow");
        assertFalse(slow.isDone(), "the password check ended before the delete; the test needs a slower hash: "
                + (slow.isDone() ? slow.join().body() : ""));
        HttpResponse<String> r = slow.get(120, TimeUnit.SECONDS);
        assertEquals(401, r.statusCode(), "a deleted user's login returned " + r.body());
        assertTrue(r.body().contains("\"BAD_CREDENTIALS\""), r.body());
    }
}
