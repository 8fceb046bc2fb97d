package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.storage.ChildJvm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real broker processes that must refuse to start, with one line and exit status 2, harming nothing. */
class StartupRefusalTest {
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

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
        int port = awaitListening(first);
        String admin = login(port);
        assertEquals(201, call(port, "POST", "/queues/jobs", admin, null).statusCode());
        assertEquals(201, call(port, "POST", "/queues/jobs/messages", admin, "{\"body\":{\"n\":1}}").statusCode());

        Process second = start(config);
        assertTrue(second.waitFor(60, TimeUnit.SECONDS), "the second broker should give up, not serve");

        String err = read(second.getErrorStream());
        assertEquals(2, second.exitValue(), err);
        assertEquals("", read(second.getInputStream()));
        assertEquals(1, err.lines().count(), "one line, no stack trace:\n" + err);
        assertTrue(err.startsWith("spool: data folder " + dir.resolve("data").toRealPath() + " "), err);
        assertTrue(err.contains("(pid " + first.pid() + ")"), err);

        assertEquals(200, call(port, "GET", "/health", null, null).statusCode(), "the first broker still serves");
        HttpResponse<String> pulled = call(port, "GET", "/queues/jobs/messages/first", admin, null);
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

    /** Reads the child's log (stderr) until it names its port; the reader then keeps draining it. */
    private static int awaitListening(Process p) throws Exception {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        StringBuffer seen = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    seen.append(line).append('\n');
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
                port.completeExceptionally(new IllegalStateException("broker exited:\n" + seen));
            } catch (Exception e) {
                port.completeExceptionally(e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        return port.get(60, TimeUnit.SECONDS);
    }

    private static String read(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    private String login(int port) throws Exception {
        HttpResponse<String> r = call(port, "POST", "/login", null,
                "{\"username\":\"admin\",\"password\":\"" + TestBroker.PASSWORD + "\"}");
        assertEquals(200, r.statusCode(), r.body());
        return TestBroker.JSON.readTree(r.body()).get("token").asText();
    }

    private HttpResponse<String> call(int port, String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
