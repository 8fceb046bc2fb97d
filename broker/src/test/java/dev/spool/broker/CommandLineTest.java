package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.ConfigException;
import dev.spool.broker.config.ConfigLoader;
import dev.spool.storage.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10, command line: picocli commands, passwords from standard input, one-line errors, defaults and overrides. */
@Timeout(90)
class CommandLineTest {
    @TempDir
    Path dir;

    /** A command's exit status and what it printed. */
    record Run(int status, String out, String err) {
    }

    private static Run run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.execute(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void assertOneLineError(Run r, String contains) {
        assertEquals(2, r.status(), r.err());
        assertEquals(1, r.err().lines().count(), "one line:\n" + r.err());
        assertTrue(r.err().startsWith("spool: ") && r.err().contains(contains), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
    }

    private Path config() throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "auth:\n  users_file: \"people.yaml\"\n");
        return config;
    }

    @Test
    void userCommandsShouldManageTheUsersFileReadingPasswordsFromStandardInput() throws Exception {
        String config = config().toString();
        Run add = run("s3cret passphrase\nignored\n", "user", "add", "bob", "--role", "AGENT", "--config", config);
        assertEquals(0, add.status(), add.err());
        assertEquals(0, run("an admin passphrase\n", "user", "add", "root", "--role", "1", "--config", config).status());
        String file = Files.readString(dir.resolve("people.yaml"));
        assertFalse(file.contains("s3cret"), "the users file holds hashes only");
        UserStore users = UserStore.load(dir.resolve("people.yaml"));
        assertEquals(Optional.of(Role.AGENT), users.authenticate("bob", "s3cret passphrase".toCharArray()).map(dev.spool.broker.auth.Account::role));

        Run list = run("", "user", "list", "--config", config);
        assertEquals(0, list.status());
        assertEquals(List.of("bob\tAGENT", "root\tADMINISTRATOR"), list.out().lines().toList());

        assertEquals(0, run("a new passphrase\n", "user", "passwd", "bob", "--config", config).status());
        users = UserStore.load(dir.resolve("people.yaml"));
        assertEquals(Optional.of(Role.AGENT), users.authenticate("bob", "a new passphrase".toCharArray()).map(dev.spool.broker.auth.Account::role));
        assertEquals(Optional.empty(), users.authenticate("bob", "s3cret passphrase".toCharArray()));

        assertOneLineError(run("", "user", "delete", "root", "--config", config), "last administrator");
        assertEquals(0, run("", "user", "delete", "bob", "--config", config).status());
        assertOneLineError(run("", "user", "delete", "bob", "--config", config), "no user 'bob'");
        assertEquals(List.of("root\tADMINISTRATOR"), run("", "user", "list", "--config", config).out().lines().toList());
    }

    @Test
    void badInputShouldBeOneLineAndStatus2() throws Exception {
        String config = config().toString();
        assertOneLineError(run("short\n", "user", "add", "bob", "--role", "AGENT", "--config", config),
                "at least 12 characters");
        assertOneLineError(run("", "user", "add", "bob", "--role", "AGENT", "--config", config),
                "none was given on standard input");
        assertOneLineError(run("s3cret passphrase\n", "user", "add", "bob", "--role", "WIZARD", "--config", config),
                "role must be one of");
        assertOneLineError(run("", "user", "list", "--config", dir.resolve("missing.yaml").toString()), "does not exist");
        Run unknown = run("", "--no-such-option");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().contains("Unknown option: '--no-such-option'"), unknown.err());
        assertFalse(unknown.err().contains("Exception"), unknown.err());
        assertEquals(2, run("", "user").status(), "a command group needs a command");
        assertFalse(Files.exists(dir.resolve("people.yaml")), "nothing written");
    }

    @Test
    void helpAndVersionShouldWorkOnEveryCommand() {
        for (List<String> cmd : List.of(List.<String>of(), List.of("serve"), List.of("user"), List.of("user", "add"),
                List.of("user", "list"), List.of("user", "delete"), List.of("user", "passwd"))) {
            Run help = run("", concat(cmd, "--help"));
            assertEquals(0, help.status(), cmd + ": " + help.err());
            assertTrue(help.out().startsWith("Usage: spool-broker"), cmd + ": " + help.out());
            Run version = run("", concat(cmd, "--version"));
            assertEquals(0, version.status(), cmd + ": " + version.err());
            assertTrue(version.out().matches("spool-broker \\d+\\.\\d+\\.\\d+\\S* \\(Java .*\\)\\R"), version.out());
        }
        assertTrue(run("", "--help").out().contains("SPOOL_CONFIG"), "the environment variables are named");
    }

    private static String[] concat(List<String> cmd, String last) {
        String[] out = cmd.toArray(new String[cmd.size() + 1]);
        out[cmd.size()] = last;
        return out;
    }

    @Test
    void duplicateKeysInTheConfigShouldBeAnError() throws Exception {
        Path config = dir.resolve("dup.yaml");
        Files.writeString(config, "server:\n  port: 1\n  port: 2\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(config));
        assertTrue(e.getMessage().contains("duplicate key port"), e.getMessage());
        assertOneLineError(run("", "--config", config.toString()), "duplicate key port");
    }

    @Test
    void serveShouldStartWithoutAConfigFileTakingOverridesFromTheEnvironment() throws Exception {
        List<String> cmd = ChildJvm.command(Main.class.getName());
        cmd.add(1, "-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("SPOOL_PORT", "0");
        pb.environment().put("SPOOL_DATA", dir.resolve("state").toString());
        Process p = pb.start();
        try {
            StringBuffer log = new StringBuffer();
            int port = ChildBrokers.awaitListening(p.getInputStream(), log);
            assertTrue(port > 0);
            assertTrue(log.toString().contains("no config file"), log.toString());
            assertTrue(Files.isRegularFile(dir.resolve("state/queues.json")), "the data folder came from SPOOL_DATA");
            Matcher m = Pattern.compile("password: (\\S+)").matcher(log);
            assertTrue(m.find(), log.toString());
            assertTrue(log.toString().contains("user add NAME --role AGENT"), "the first start says how to add users");
            HttpResponse<String> login = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/login")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"username\":\"admin\",\"password\":\"" + m.group(1) + "\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, login.statusCode(), login.body());
        } finally {
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void firstStartShouldCreateAdminAndPrintItsPasswordAndTheCommandsOnce() throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "server:\n  port: 0\n");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        String password;
        try (Broker b = Broker.start(ConfigLoader.load(config), new PrintStream(console, true, StandardCharsets.UTF_8))) {
            String text = console.toString(StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("password: (\\S+)").matcher(text);
            assertTrue(m.find(), text);
            password = m.group(1);
            assertTrue(text.contains("user add NAME --role AGENT --config " + config.toAbsolutePath()), text);
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
