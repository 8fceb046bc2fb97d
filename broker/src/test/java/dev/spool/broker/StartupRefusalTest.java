package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.storage.ChildJvm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real broker processes that must refuse to start, with one line and exit status 2, harming nothing. */
class StartupRefusalTest {

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Process> children = new ArrayList<>();

    @AfterEach
    void killChildren() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(180)
    void secondBrokerOnTheSameDataFolderShouldExitWithOneLineNamingTheHolder() throws Exception {
        Path config = writeConfig(dir.resolve("config.yaml"), 0, "data/queues.json");
        UserStore.load(dir.resolve("users.yaml")).put("admin", Role.ADMINISTRATOR, TestBroker.PASSWORD.toCharArray());
        Process first = start(config);
        int port = ChildBrokers.awaitListening(first.getErrorStream(), new StringBuffer());
        String admin = login(port);
        assertEquals(201, ChildBrokers.call(http, port, "POST", "/queues/jobs", admin, null).statusCode());
        assertEquals(201, ChildBrokers.call(http, port, "POST", "/queues/jobs/messages", admin, "{\"body\":{\"n\":1}}").statusCode());

        Process second = start(config);
        assertTrue(second.waitFor(60, TimeUnit.SECONDS), "the second broker should give up, not serve");

        String err = read(second.getErrorStream());
        assertEquals(2, second.exitValue(), err);
        assertEquals("", read(second.getInputStream()));
        assertEquals(1, err.lines().count(), "one line, no stack trace:\n" + err);
        assertTrue(err.startsWith("spool: data folder " + dir.resolve("data").toRealPath() + " "), err);
        assertTrue(err.contains("(pid " + first.pid() + ")"), err);

        assertEquals(200, ChildBrokers.call(http, port, "GET", "/health", null, null).statusCode(), "the first broker still serves");
        HttpResponse<String> pulled = ChildBrokers.call(http, port, "GET", "/queues/jobs/messages/first", admin, null);
        assertEquals(1, TestBroker.JSON.readTree(pulled.body()).path("body").path("n").asInt(), pulled.body());
    }

    @Test
    @Timeout(120)
    void brokerOnABusyPortShouldExitWithOneLineAndOpenNothing() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            int port = busy.getLocalPort();
            Path config = writeConfig(dir.resolve("config.yaml"), port, "data/queues.json");

            Process broker = start(config);
            assertTrue(broker.waitFor(60, TimeUnit.SECONDS), "the broker should give up");

            String err = read(broker.getErrorStream());
            assertEquals(2, broker.exitValue(), err);
            assertEquals("spool: cannot listen on 127.0.0.1:" + port + ": Address already in use", err.strip());
            assertEquals(1, err.lines().count(), err);
            assertFalse(err.contains("Exception") || err.contains("\tat "), err);
            assertEquals("", read(broker.getInputStream()), "no admin password for a broker that never ran");
            assertFalse(Files.exists(dir.resolve("data")), "the data folder was created");
            assertFalse(Files.exists(dir.resolve("users.yaml")), "the users file was created");
        }
    }

    private Path writeConfig(Path file, int port, String dataPath) throws Exception {
        Files.writeString(file, """
                QueueManager:
                  path: "%s"
                server:
                  host: "127.0.0.1"
                  port: %d
                """.formatted(dataPath, port));
        return file;
    }

    private Process start(Path config) throws Exception {
        List<String> cmd = ChildJvm.command(Main.class.getName(), "--config", config.toString());
        // The test classpath holds two logback-test.xml (storage's and ours), and logback reports that on
        // stdout; the shipped jar has one. Silence the report so the output is the broker's own.
        cmd.add(1, "-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).start();
        children.add(p);
        return p;
    }


    private static String read(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    private String login(int port) throws Exception {
        HttpResponse<String> r = ChildBrokers.call(http, port, "POST", "/login", null,
                "{\"username\":\"admin\",\"password\":\"" + TestBroker.PASSWORD + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        return TestBroker.JSON.readTree(r.body()).get("token").asText();
    }

}
