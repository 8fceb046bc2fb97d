package dev.spool.broker;

import dev.spool.storage.StoreConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.config.ConfigLoader;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/** A real broker on port 0 in a temp folder, with one signed-in user per role, and an HTTP client. */
final class TestBroker implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PASSWORD = "correct horse battery staple";

    final Path dir;
    final Broker broker;
    final HttpClient http;
    /** {@code https} when the broker listens on HTTPS only; its client then trusts the broker's keystore. */
    private final String scheme;
    final Map<Role, String> tokens = new EnumMap<>(Role.class);

    TestBroker(Path dir, String extraYaml, Clock clock) throws IOException, InterruptedException {
        this(dir, extraYaml, clock, StoreConfig.SyncDelay.NONE);
    }

    /** A broker whose every store sync first runs {@code syncDelay} (a slow disk). */
    TestBroker(Path dir, String extraYaml, Clock clock, StoreConfig.SyncDelay syncDelay)
            throws IOException, InterruptedException {
        this.dir = dir;
        Files.writeString(dir.resolve("config.yaml"), """
                QueueManager:
                  path: "data/queues.json"
                  max_length: 100
                  save_period_time: 30
                server:
                  host: "127.0.0.1"
                  port: 0
                %s
                %s
                auth:
                  users_file: "users.yaml"
                  token_ttl_seconds: %d
                audit:
                  file: "message_queue.log"
                %s
                """.formatted(extraYaml.contains("server.max_wait_seconds:") ? ""
                        : "  max_wait_seconds: " + (extraYaml.equals("server_wait_placeholder") ? "2" : "20"),
                sectionKeys(extraYaml, "server."),
                extraYaml.equals("auth_ttl_placeholder") ? 60 : 86400, sectionKeys(extraYaml, "audit."))
                + (extraYaml.equals("auth_ttl_placeholder") ? ""
                : extraYaml.equals("server_wait_placeholder") ? "" : otherKeys(extraYaml)));
        BrokerConfig config = ConfigLoader.load(dir.resolve("config.yaml"));
        boolean httpsOnly = config.server().tls() != null && !config.server().tls().plainHttp();
        scheme = httpsOnly ? "https" : "http";
        http = httpsOnly ? TestKeystore.trustingClient(config.server().tls().keystore(), config.server().tls().password())
                : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        UserStore users = UserStore.load(config.auth().usersFile());
        for (Role r : Role.values()) {
            users.put(r.name().toLowerCase(), r, PASSWORD.toCharArray());
        }
        broker = Broker.start(config, new PrintStream(OutputStream.nullOutputStream()), clock, syncDelay);
        for (Role r : Role.values()) {
            HttpResponse<String> login = send("POST", "/login", null,
                    "{\"username\":\"" + r.name().toLowerCase() + "\",\"password\":\"" + PASSWORD + "\"}");
            if (login.statusCode() != 200) {
                throw new IllegalStateException("login failed: " + login.body());
            }
            tokens.put(r, JSON.readTree(login.body()).get("token").asText());
        }
    }

    /** Lines {@code SECTION.KEY: VALUE} of the extra YAML, as keys of that section of the template. */
    private static String sectionKeys(String extraYaml, String prefix) {
        StringBuilder sb = new StringBuilder();
        extraYaml.lines().filter(l -> l.startsWith(prefix)).forEach(l -> sb.append("  ")
                .append(l.substring(prefix.length())).append('\n'));
        return sb.toString();
    }

    private static String otherKeys(String extraYaml) {
        StringBuilder sb = new StringBuilder();
        extraYaml.lines().filter(l -> !l.startsWith("server.") && !l.startsWith("audit."))
                .forEach(l -> sb.append(l).append('\n'));
        return sb.toString();
    }

    TestBroker(Path dir) throws IOException, InterruptedException {
        this(dir, "", Clock.systemUTC());
    }

    String url(String path) {
        return scheme + "://127.0.0.1:" + broker.port() + path;
    }

    HttpResponse<String> send(String method, String path, String token, String json) throws IOException,
            InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", token);
        }
        if (json != null) {
            b.header("Content-Type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(json));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        // Every answer a black-box test receives must be what openapi.yaml describes.
        OpenApiContract.DOCUMENT.check(method, path, r.statusCode(), r.headers().firstValue("Content-Type").orElse(null),
                r.body());
        return r;
    }

    HttpResponse<String> as(Role role, String method, String path, String json) throws IOException,
            InterruptedException {
        return send(method, path, tokens.get(role), json);
    }

    HttpResponse<String> admin(String method, String path, String json) throws IOException, InterruptedException {
        return as(Role.ADMINISTRATOR, method, path, json);
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    @Override
    public void close() {
        broker.close();
    }
}
