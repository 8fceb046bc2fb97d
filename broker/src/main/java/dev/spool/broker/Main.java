package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.config.ConfigException;
import dev.spool.broker.config.ConfigLoader;
import dev.spool.storage.ChronicleSettings;
import dev.spool.storage.StoreException;

import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar spool-broker.jar [--config FILE]} serves; {@code ... user add NAME --role ROLE
 * [--config FILE]} adds or updates a user, reading the password as one line from standard input.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // Before any Chronicle class loads: no banner, no analytics.
        ChronicleSettings.apply();
        try {
            System.exit(run(args));
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("spool: " + e.getMessage());
            System.exit(2);
        } catch (BindException e) {
            System.err.println("spool: " + e.getMessage());
            System.exit(2);
        } catch (StoreException e) {
            if (e.code() == StoreException.Code.LOCKED) {
                // Another broker owns the data folder: an operator's mistake, told in one line, not a crash.
                System.err.println("spool: " + e.getMessage() + " (QueueManager.path)");
                System.exit(2);
            }
            // The store cannot be opened (a damaged file it will not guess about, a full disk): one line
            // saying what and where; the log has the details.
            LoggerFactory.getLogger(Main.class).error("the store could not be opened", e);
            System.err.println("spool: cannot open the store: " + e.getMessage());
            System.exit(1);
        } catch (IOException e) {
            System.err.println("spool: " + e);
            System.exit(1);
        }
    }

    static int run(String[] args) throws IOException {
        List<String> rest = new ArrayList<>(List.of(args));
        Path config = Path.of("config.yaml");
        int i = rest.indexOf("--config");
        if (i >= 0) {
            if (i + 1 >= rest.size()) {
                throw new IllegalArgumentException("--config needs a file");
            }
            config = Path.of(rest.get(i + 1));
            rest.remove(i + 1);
            rest.remove(i);
        }
        BrokerConfig cfg = ConfigLoader.load(config);
        if (rest.isEmpty()) {
            serve(cfg);
            return 0;
        }
        if (rest.size() == 4 && rest.get(0).equals("user") && rest.get(1).equals("add") && rest.get(3).startsWith("--role=")) {
            rest.add(rest.remove(3).substring(7));
            rest.add(3, "--role");
        }
        if (rest.size() == 5 && rest.get(0).equals("user") && rest.get(1).equals("add") && rest.get(3).equals("--role")) {
            Role role = Role.parse(rest.get(4));
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String password = in.readLine();
            if (password == null || password.isEmpty()) {
                throw new IllegalArgumentException("a password is required on standard input (one line)");
            }
            UserStore.load(cfg.usersFile()).put(rest.get(2), role, password.toCharArray());
            System.out.println("user '" + rest.get(2) + "' saved with role " + role + " in " + cfg.usersFile());
            return 0;
        }
        throw new IllegalArgumentException("usage: spool-broker.jar [--config FILE] | user add NAME --role "
                + "BASIC|ADMINISTRATOR|SECRETARY|AGENT [--config FILE]");
    }

    private static void serve(BrokerConfig cfg) throws IOException {
        Broker broker = Broker.start(cfg, System.out);
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
    }
}
