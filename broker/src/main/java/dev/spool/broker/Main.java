package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.config.ConfigException;
import dev.spool.broker.config.ConfigLoader;
import dev.spool.storage.journal.ChronicleSettings;
import dev.spool.storage.StoreException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * The broker's command line: {@code serve} (the default) and {@code user add|list|delete|passwd}, with
 * {@code --help} and {@code --version} on every command. Errors are one line on standard error and a non-zero
 * status (2 for usage, configuration and refusals; 1 for failures), never a stack trace.
 */
@Command(name = "spool-broker", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Spool, a durable message-queue broker. Without a command, serves (as 'serve').",
        subcommands = {Main.Serve.class, Main.Users.class},
        exitCodeOnInvalidInput = 2, exitCodeOnExecutionException = 1)
public final class Main implements Callable<Integer> {
    @Mixin
    ServeOptions serve;

    private final InputStream in;
    private final PrintStream out;

    Main(InputStream in, PrintStream out) {
        this.in = in;
        this.out = out;
    }

    public static void main(String[] args) {
        // Before any Chronicle class loads: no banner, no analytics.
        ChronicleSettings.apply();
        System.exit(execute(args, System.in, System.out, System.err));
    }

    /** Runs a command line; returns the exit status. Used by {@link #main} and by tests. */
    static int execute(String[] args, InputStream in, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Main(in, out), new Factory(in, out));
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cl.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            commandLine.getErr().println("spool: " + message(e));
            return exitCode(e);
        });
        return cl.execute(args);
    }

    /** The one line an error becomes; the log keeps the details of a store that cannot open. */
    private static String message(Exception e) {
        if (e instanceof StoreException s) {
            if (s.code() == StoreException.Code.LOCKED) {
                return s.getMessage() + " (QueueManager.path)";
            }
            LoggerFactory.getLogger(Main.class).error("the store could not be opened", e);
            return "cannot open the store: " + s.getMessage();
        }
        String m = e instanceof ConfigException || e instanceof IllegalArgumentException || e instanceof BindException
                ? e.getMessage() : e.toString();
        // One line, whatever the message (YAML parse errors come with a drawing of the line).
        return m.lines().map(String::strip).filter(l -> !l.isEmpty()).collect(java.util.stream.Collectors.joining(" "));
    }

    private static int exitCode(Exception e) {
        boolean refused = e instanceof ConfigException || e instanceof IllegalArgumentException
                || e instanceof BindException
                || (e instanceof StoreException s && s.code() == StoreException.Code.LOCKED);
        return refused ? 2 : 1;
    }

    @Override
    public Integer call() throws IOException {
        return serve.serve(out);
    }

    /** Options naming the configuration; each may also come from an environment variable. */
    static final class ConfigOption {
        @Option(names = "--config", paramLabel = "FILE", defaultValue = "${env:SPOOL_CONFIG}",
                description = "The config file (env SPOOL_CONFIG). Default: ./config.yaml if it exists, "
                        + "else every key at its default.")
        Path config;

        /** The file to read, or null for none. */
        Path file() {
            if (config != null) {
                if (!Files.isRegularFile(config)) {
                    throw new ConfigException("config file " + config + " does not exist");
                }
                return config;
            }
            Path local = Path.of("config.yaml");
            return Files.isRegularFile(local) ? local : null;
        }

        BrokerConfig load(Map<String, Object> overrides) {
            Path f = file();
            if (f == null) {
                LoggerFactory.getLogger(Main.class).info("no config file (--config, SPOOL_CONFIG or ./config.yaml): "
                        + "every key at its default, relative paths from {}", Path.of("").toAbsolutePath());
            }
            return ConfigLoader.load(f, overrides);
        }
    }

    /** What {@code serve} takes: the config file and the overrides an operator most often needs. */
    static final class ServeOptions {
        @Mixin
        ConfigOption config;

        @Option(names = "--host", paramLabel = "ADDRESS", defaultValue = "${env:SPOOL_HOST}",
                description = "Listen address, overriding server.host (env SPOOL_HOST).")
        String host;

        @Option(names = "--port", paramLabel = "PORT", defaultValue = "${env:SPOOL_PORT}",
                description = "Listen port, overriding server.port; 0 picks a free one (env SPOOL_PORT).")
        Integer port;

        @Option(names = "--data", paramLabel = "DIR", defaultValue = "${env:SPOOL_DATA}",
                description = "Data folder, overriding QueueManager.path with DIR/queues.json (env SPOOL_DATA).")
        Path data;

        int serve(PrintStream console) throws IOException {
            Map<String, Object> overrides = new LinkedHashMap<>();
            if (host != null) {
                overrides.put("server.host", host);
            }
            if (port != null) {
                overrides.put("server.port", port);
            }
            if (data != null) {
                overrides.put("QueueManager.path", data.toAbsolutePath().resolve("queues.json").toString());
            }
            BrokerConfig cfg = config.load(overrides);
            Broker broker = Broker.start(cfg, console);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                broker.close();
                stopped.countDown();
            }, "spool-shutdown"));
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Runs the broker until it is stopped (SIGTERM or Ctrl-C: in-flight requests finish, "
                    + "a final checkpoint is written).")
    static final class Serve implements Callable<Integer> {
        @Mixin
        ServeOptions options;
        private final PrintStream out;

        Serve(PrintStream out) {
            this.out = out;
        }

        @Override
        public Integer call() throws IOException {
            return options.serve(out);
        }
    }

    @Command(name = "user", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Manages the users file. A running broker notices changes within a second.",
            subcommands = {UserAdd.class, UserList.class, UserDelete.class, UserPasswd.class})
    static final class Users implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            throw new CommandLine.ParameterException(spec.commandLine(), "say what to do: add, list, delete or passwd");
        }
    }

    /** Runs {@code action} on the users of the backend the configuration names (see {@link Backend#withUsers}). */
    private static void withUsers(ConfigOption config, Backend.UsersAction action) throws IOException {
        Backend.of(config.load(Map.of())).withUsers(action);
    }

    @Command(name = "add", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Adds a user, or replaces the role and password of an existing one. The password is "
                    + "asked for (hidden) on a terminal, else read as one line from standard input.")
    static final class UserAdd implements Callable<Integer> {
        @Parameters(paramLabel = "NAME", description = "1-64 of [A-Za-z0-9._@-]")
        String name;
        @Option(names = "--role", required = true, paramLabel = "ROLE",
                description = "BASIC, ADMINISTRATOR, SECRETARY or AGENT (or 0-3)")
        String role;
        @Mixin
        ConfigOption config;
        private final Passwords passwords;
        private final PrintStream out;

        UserAdd(Passwords passwords, PrintStream out) {
            this.passwords = passwords;
            this.out = out;
        }

        @Override
        public Integer call() throws IOException {
            Role r = Role.parse(role);
            char[] password = passwords.read("Password for " + name);
            withUsers(config, (users, revoke) -> {
                boolean existed = users.roleOf(name).isPresent();
                users.put(name, r, password);
                if (existed) {
                    revoke.sessionsOf(name); // its role or password changed
                }
            });
            out.println("user '" + name + "' saved with role " + r);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Lists users and roles, one per line (never passwords or hashes).")
    static final class UserList implements Callable<Integer> {
        @Mixin
        ConfigOption config;
        private final PrintStream out;

        UserList(PrintStream out) {
            this.out = out;
        }

        @Override
        public Integer call() throws IOException {
            withUsers(config, (users, revoke) -> {
                for (UserStore.Entry u : users.list()) {
                    out.println(u.username() + "\t" + u.role());
                }
            });
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Deletes a user; a running broker revokes its tokens within a second.")
    static final class UserDelete implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;
        @Mixin
        ConfigOption config;
        private final PrintStream out;

        UserDelete(PrintStream out) {
            this.out = out;
        }

        @Override
        public Integer call() throws IOException {
            withUsers(config, (users, revoke) -> {
                if (users.roleOf(name).isEmpty()) {
                    throw new IllegalArgumentException("no user '" + name + "'");
                }
                if (users.isLastAdministrator(name)) {
                    throw new IllegalArgumentException("'" + name + "' is the last administrator; add another first");
                }
                users.remove(name);
                revoke.sessionsOf(name);
            });
            out.println("user '" + name + "' deleted");
            return 0;
        }
    }

    @Command(name = "passwd", mixinStandardHelpOptions = true, versionProvider = Version.class,
            description = "Sets a user's password (asked for, hidden, on a terminal; else one line of standard "
                    + "input); a running broker revokes the user's tokens within a second.")
    static final class UserPasswd implements Callable<Integer> {
        @Parameters(paramLabel = "NAME")
        String name;
        @Mixin
        ConfigOption config;
        private final Passwords passwords;
        private final PrintStream out;

        UserPasswd(Passwords passwords, PrintStream out) {
            this.passwords = passwords;
            this.out = out;
        }

        @Override
        public Integer call() throws IOException {
            char[][] password = new char[1][];
            withUsers(config, (users, revoke) -> {
                if (users.roleOf(name).isEmpty()) {
                    throw new IllegalArgumentException("no user '" + name + "'");
                }
                password[0] = passwords.read("New password for " + name);
                users.changePassword(name, password[0]);
                revoke.sessionsOf(name);
            });
            out.println("password of '" + name + "' changed");
            return 0;
        }
    }

    /** Reads a password: hidden and twice on a terminal, else one line of standard input. */
    static final class Passwords {
        private final InputStream in;

        Passwords(InputStream in) {
            this.in = in;
        }

        char[] read(String prompt) throws IOException {
            Console console = in == System.in ? System.console() : null;
            char[] password;
            if (console != null) {
                password = console.readPassword("%s: ", prompt);
                char[] again = console.readPassword("Again: ");
                if (password == null || again == null || !Arrays.equals(password, again)) {
                    throw new IllegalArgumentException("the two passwords differ");
                }
            } else {
                String line = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
                password = line == null ? new char[0] : line.toCharArray();
            }
            if (password.length < UserStore.MIN_PASSWORD_LENGTH) {
                throw new IllegalArgumentException("the password must be at least " + UserStore.MIN_PASSWORD_LENGTH
                        + " characters" + (password.length == 0 ? " (none was given on standard input)" : ""));
            }
            return password;
        }
    }

    /** Builds commands with the streams they use. */
    private record Factory(InputStream in, PrintStream out) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> cls) throws Exception {
            Passwords passwords = new Passwords(in);
            Object made;
            if (cls == Serve.class) {
                made = new Serve(out);
            } else if (cls == UserAdd.class) {
                made = new UserAdd(passwords, out);
            } else if (cls == UserList.class) {
                made = new UserList(out);
            } else if (cls == UserDelete.class) {
                made = new UserDelete(out);
            } else if (cls == UserPasswd.class) {
                made = new UserPasswd(passwords, out);
            } else {
                return CommandLine.defaultFactory().create(cls);
            }
            return cls.cast(made);
        }
    }

    /** The version Maven wrote into {@code version.properties}. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream s = Main.class.getResourceAsStream("version.properties")) {
                if (s != null) {
                    p.load(s);
                }
            }
            return new String[]{"spool-broker " + p.getProperty("version", "unknown") + " (Java "
                    + System.getProperty("java.version") + ")"};
        }
    }
}
