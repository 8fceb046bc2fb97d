package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CommandLineTest {
    @TempDir
    Path dir;

    @Test
    void userAddShouldReadOnePasswordLineFromStandardInput() throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "auth:\n  users_file: \"people.yaml\"\n");
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream("s3cret pass\nignored\n".getBytes(StandardCharsets.UTF_8)));
            assertEquals(0, Main.run(new String[] {"user", "add", "bob", "--role", "AGENT", "--config", config.toString()}));
        } finally {
            System.setIn(saved);
        }
        String file = Files.readString(dir.resolve("people.yaml"));
        assertFalse(file.contains("s3cret"), "the users file holds hashes only");
        UserStore users = UserStore.load(dir.resolve("people.yaml"));
        assertEquals(Optional.of(Role.AGENT), users.authenticate("bob", "s3cret pass".toCharArray()));
        assertEquals(Optional.empty(), users.authenticate("bob", "s3cret pass\n".toCharArray()));
    }

    @Test
    void userAddShouldRefuseAnUnknownRole() throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "");
        assertThrows(IllegalArgumentException.class,
                () -> Main.run(new String[] {"user", "add", "bob", "--role", "WIZARD", "--config", config.toString()}));
    }

    @Test
    void firstStartShouldCreateAdminAndPrintItsPasswordOnce() throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "server:\n  port: 0\n");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        String password;
        try (Broker b = Broker.start(ConfigLoader.load(config), new PrintStream(console, true, StandardCharsets.UTF_8))) {
            Matcher m = Pattern.compile("password: (\\S+)").matcher(console.toString(StandardCharsets.UTF_8));
            assertTrue(m.find(), console.toString(StandardCharsets.UTF_8));
            password = m.group(1);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + b.port() + "/login")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"admin\",\"password\":\"" + password + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals(1, TestBroker.json(r).path("role").asInt());
        }
        assertFalse(Files.readString(dir.resolve("users.yaml")).contains(password));
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        try (Broker b = Broker.start(ConfigLoader.load(config), new PrintStream(second, true, StandardCharsets.UTF_8))) {
            assertTrue(b.port() > 0);
            assertFalse(second.toString(StandardCharsets.UTF_8).contains("password"), "shown only once");
        }
    }
}
