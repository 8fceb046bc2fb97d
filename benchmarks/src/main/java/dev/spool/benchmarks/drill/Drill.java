package dev.spool.benchmarks.drill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.benchmarks.client.HttpConnection;
import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;

import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * {@code spool-bench.jar drill}: runs the broker jar as a child on a temp data folder, with producers
 * and consumers working through it, kills it with SIGKILL at random moments, restarts it, finally
 * drains every queue and checks that no acknowledged push was lost, nothing was delivered twice and
 * nothing unexpected came out. Exit status 0 on pass, 1 on fail.
 */
public final class Drill {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PASSWORD = "drill-password";
    private static final int TIMEOUT_MS = 10_000;

    private final DrillOptions o;
    private final PrintStream out;
    private final Ledger ledger = new Ledger();
    private final AtomicBoolean producing = new AtomicBoolean(true);
    private final AtomicBoolean consuming = new AtomicBoolean(true);
    private Path dir;
    private URI url;
    private volatile String token;

    Drill(DrillOptions o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    public static int run(List<String> args, PrintStream out, PrintStream err) {
        DrillOptions o;
        try {
            o = DrillOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("drill: " + e.getMessage());
            err.print(DrillOptions.USAGE);
            return 2;
        }
        if (!Files.isRegularFile(o.brokerJar())) {
            err.println("drill: broker jar " + o.brokerJar() + " not found; build it with ./mvnw -q -DskipTests package");
            return 2;
        }
        try {
            return new Drill(o, out).run() ? 0 : 1;
        } catch (IOException e) {
            err.println("drill: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    boolean run() throws IOException, InterruptedException {
        dir = o.dataDir() != null ? Files.createDirectories(o.dataDir()) : Files.createTempDirectory("spool-drill");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        url = URI.create("http://127.0.0.1:" + port);
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, """
                QueueManager:
                  path: "data/queues.json"
                  max_length: 100000000
                server:
                  port: %d
                storage:
                  fsync: "%s"
                audit:
                  body: "omit"
                """.formatted(port, o.fsync()));
        UserStore.load(dir.resolve("users.yaml")).put("drill", Role.ADMINISTRATOR, PASSWORD.toCharArray());
        Random random = new Random(o.seed());
        List<Long> restarts = new ArrayList<>();
        BrokerProcess broker = BrokerProcess.start(o.brokerJar(), config);
        token = login();
        for (int q = 0; q < o.queues(); q++) {
            HttpConnection.Response r = call("POST", "/queues/drill-" + q, null);
            if (r.status() != 201) {
                throw new IOException("creating queue failed: " + r.status() + " " + r.text());
            }
        }
        List<Thread> producers = new ArrayList<>();
        List<Thread> consumers = new ArrayList<>();
        for (int p = 0; p < o.producers(); p++) {
            producers.add(start(producer(p), "drill-producer-" + p));
        }
        for (int c = 0; c < o.consumers(); c++) {
            consumers.add(start(consumer(c), "drill-consumer-" + c));
        }
        for (int cycle = 1; cycle <= o.cycles(); cycle++) {
            long span = o.maxUptime().toMillis() - o.minUptime().toMillis();
            Thread.sleep(o.minUptime().toMillis() + (span == 0 ? 0 : (long) (random.nextDouble() * span)));
            broker.kill();
            corrupt();
            broker = BrokerProcess.start(o.brokerJar(), config);
            restarts.add(broker.readyMillis());
            if (!o.json()) {
                out.printf(Locale.ROOT, "[drill] cycle %d/%d: killed with SIGKILL, restarted in %d ms%n", cycle,
                        o.cycles(), broker.readyMillis());
            }
        }
        producing.set(false);
        for (Thread t : producers) {
            t.join();
        }
        consuming.set(false);
        for (Thread t : consumers) {
            t.join();
        }
        drain();
        String brokerOutput = broker.output();
        broker.stop();
        DrillReport report = ledger.report(o.corrupt() == DrillOptions.Corruption.JOURNAL_TAIL,
                (long) o.consumers() * o.cycles());
        print(report, restarts);
        if (!report.pass() && !o.json()) {
            out.println("[drill] broker output of the last run:\n" + brokerOutput);
        }
        if (o.dataDir() == null) {
            deleteTree(dir);
        }
        return report.pass();
    }

    private static Thread start(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private String login() throws IOException {
        try (HttpConnection c = new HttpConnection(url, TIMEOUT_MS)) {
            HttpConnection.Response r = c.send("POST", "/login", null, "application/json",
                    ("{\"username\":\"drill\",\"password\":\"" + PASSWORD + "\"}").getBytes(StandardCharsets.UTF_8));
            if (r.status() != 200) {
                throw new IOException("login failed: " + r.status() + " " + r.text());
            }
            return JSON.readTree(r.body()).path("token").asText();
        }
    }

    private HttpConnection.Response call(String method, String path, byte[] body) throws IOException {
        try (HttpConnection c = new HttpConnection(url, TIMEOUT_MS)) {
            return c.send(method, path, token, "application/json", body);
        }
    }

    private Runnable producer(int p) {
        return () -> {
            long seq = 0;
            try (HttpConnection c = new HttpConnection(url, TIMEOUT_MS)) {
                while (producing.get()) {
                    String key = "p" + p + "-" + seq;
                    String queue = "drill-" + (seq % o.queues());
                    try {
                        byte[] body = ("{\"body\":{\"key\":\"" + key + "\"}}").getBytes(StandardCharsets.UTF_8);
                        ledger.attempt(key);
                        HttpConnection.Response r = c.send("POST", "/queues/" + queue + "/messages", token,
                                "application/json", body);
                        if (r.status() == 201) {
                            ledger.acknowledge(key);
                        }
                        seq++;
                    } catch (HttpConnection.NotSentException e) {
                        pause(); // never sent: the same key is safe to use again
                    } catch (IOException e) {
                        seq++; // may or may not have been stored: never reuse its key
                        pause();
                    }
                }
            }
        };
    }

    private Runnable consumer(int c) {
        return () -> {
            try (HttpConnection conn = new HttpConnection(url, TIMEOUT_MS)) {
                int q = c;
                while (consuming.get()) {
                    q = (q + 1) % o.queues();
                    if (pullOnce(conn, "drill-" + q) == PullOutcome.FAILED) {
                        pause();
                    }
                }
            }
        };
    }

    private enum PullOutcome { MESSAGE, EMPTY, FAILED }

    private PullOutcome pullOnce(HttpConnection conn, String queue) {
        try {
            HttpConnection.Response r = conn.send("GET", "/queues/" + queue + "/messages/first", token, null, null);
            if (r.status() != 200) {
                return PullOutcome.FAILED;
            }
            JsonNode m = JSON.readTree(r.body());
            if (m == null || m.isNull()) {
                return PullOutcome.EMPTY;
            }
            ledger.deliver(m.path("body").path("key").asText());
            return PullOutcome.MESSAGE;
        } catch (HttpConnection.NotSentException e) {
            return PullOutcome.FAILED;
        } catch (IOException e) {
            ledger.unansweredPull();
            return PullOutcome.FAILED;
        }
    }

    /** Pulls every queue until it is empty. */
    private void drain() throws IOException {
        try (HttpConnection conn = new HttpConnection(url, TIMEOUT_MS)) {
            for (int q = 0; q < o.queues(); q++) {
                PullOutcome r;
                do {
                    r = pullOnce(conn, "drill-" + q);
                } while (r == PullOutcome.MESSAGE);
                if (r == PullOutcome.FAILED) {
                    throw new IOException("draining drill-" + q + " failed");
                }
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Damages files while the broker is down, as the options ask. */
    private void corrupt() throws IOException {
        switch (o.corrupt()) {
            case NONE -> {
            }
            case CHECKPOINT -> Files.write(dir.resolve("data/queues.json"), "{\"format\": \"spool-checkpoint\", garbage"
                    .getBytes(StandardCharsets.US_ASCII));
            case JOURNAL_TAIL -> {
                try (Stream<Path> files = Files.walk(dir.resolve("data/queues"))) {
                    for (Path f : files.filter(p -> p.toString().endsWith(".cq4")).toList()) {
                        tearTail(f);
                    }
                }
            }
        }
    }

    /** Cuts a journal file a few bytes before the end of its data, mid-entry. */
    static void tearTail(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            long len = f.length();
            byte[] buf = new byte[1 << 16];
            for (long end = len; end > 0; end -= buf.length) {
                long start = Math.max(0, end - buf.length);
                f.seek(start);
                f.readFully(buf, 0, (int) (end - start));
                for (int i = (int) (end - start) - 1; i >= 0; i--) {
                    if (buf[i] != 0) {
                        f.setLength(Math.max(0, start + i - 20));
                        return;
                    }
                }
            }
        }
    }

    private void print(DrillReport r, List<Long> restarts) throws IOException {
        long max = restarts.stream().mapToLong(Long::longValue).max().orElse(0);
        double avg = restarts.stream().mapToLong(Long::longValue).average().orElse(0);
        if (o.json()) {
            ObjectNode n = JSON.valueToTree(r);
            n.put("cycles", o.cycles());
            n.put("corrupt", o.corrupt().name().toLowerCase(Locale.ROOT));
            n.put("restart_ms_avg", avg);
            n.put("restart_ms_max", max);
            n.put("verdict", r.pass() ? "PASS" : "FAIL");
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
            return;
        }
        out.printf(Locale.ROOT, """
                [drill] %d kill -9 cycles, corruption: %s, fsync: %s
                  pushes attempted          %d
                  pushes acknowledged       %d
                  messages delivered        %d
                  lost (acked, never seen)  %d   (pulls unanswered at a kill, each may hide one: %d)
                  duplicated deliveries     %d
                  unexpected messages       %d
                  unacked but stored        %d   (pushes in flight at a kill; allowed)
                  restart time              avg %.0f ms, max %d ms (JVM start to listening)
                  verdict                   %s
                """, o.cycles(), o.corrupt().name().toLowerCase(Locale.ROOT), o.fsync(), r.attempted(),
                r.acknowledged(), r.delivered(), r.lost(), r.unansweredPulls(), r.duplicated(), r.unexpected(),
                r.unacknowledgedDelivered(), avg, max, r.pass() ? "PASS" : "FAIL");
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
