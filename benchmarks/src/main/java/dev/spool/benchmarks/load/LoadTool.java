package dev.spool.benchmarks.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.benchmarks.client.HttpConnection;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code spool-bench.jar load}: drives a running broker over HTTP keep-alive, one thread per
 * connection, printing a progress line each second and a summary at the end.
 */
public final class LoadTool {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TIMEOUT_MS = 30_000;

    private final LoadOptions o;
    private final PrintStream out;
    private String token;

    LoadTool(LoadOptions o, PrintStream out) {
        this.o = o;
        this.out = out;
    }

    /** Runs the tool; returns the process exit status. */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        LoadOptions o;
        try {
            o = LoadOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("load: " + e.getMessage());
            err.print(LoadOptions.USAGE);
            return 2;
        }
        try {
            return new LoadTool(o, out).run();
        } catch (IOException | IllegalStateException e) {
            err.println("load: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    int run() throws IOException, InterruptedException {
        token = o.token() != null ? o.token() : login();
        if (o.createQueue() && o.mode() != LoadOptions.Mode.TRIVIAL) {
            createQueue();
        }
        if (o.mode().drains()) {
            DrainReport drain = new Drain(o, token, out).run();
            print(List.of(drain.summary()), drain);
            return drain.complete() ? 0 : 1;
        }
        List<LatencySummary> phases = new ArrayList<>();
        if (o.baseline() && o.mode() != LoadOptions.Mode.TRIVIAL) {
            phases.add(phase(LoadOptions.Mode.TRIVIAL));
        }
        phases.add(phase(o.mode()));
        print(phases, null);
        return 0;
    }

    private String login() throws IOException {
        try (HttpConnection c = new HttpConnection(o.url(), TIMEOUT_MS)) {
            ObjectNode req = JSON.createObjectNode().put("username", o.user()).put("password", o.password());
            HttpConnection.Response r = c.send("POST", "/login", null, "application/json", JSON.writeValueAsBytes(req));
            if (r.status() != 200) {
                throw new IllegalStateException("login as '" + o.user() + "' failed with " + r.status() + ": " + r.text());
            }
            return JSON.readTree(r.body()).path("token").asText();
        }
    }

    private void createQueue() throws IOException {
        // A drain's backlog must fit; twice its size leaves room for what an existing queue held.
        long maxLength = o.mode().drains() ? 2 * o.backlog() : 1_000_000_000L;
        try (HttpConnection c = new HttpConnection(o.url(), TIMEOUT_MS)) {
            HttpConnection.Response r = c.send("POST", "/queues/" + o.queue(), token, "application/json",
                    ("{\"max_length\":" + maxLength + "}").getBytes(StandardCharsets.US_ASCII));
            if (r.status() != 201 && r.status() != 409) {
                throw new IllegalStateException("creating queue '" + o.queue() + "' failed with " + r.status() + ": "
                        + r.text());
            }
            for (int k = 1; k <= o.subscriptions(); k++) {
                r = c.send("POST", "/queues/" + o.queue() + "/subscriptions/s" + k, token, "application/json",
                        "{\"start\":\"latest\"}".getBytes(StandardCharsets.US_ASCII));
                if (r.status() != 201 && r.status() != 409) {
                    throw new IllegalStateException("creating subscription s" + k + " failed with " + r.status() + ": "
                            + r.text());
                }
            }
        }
    }

    /** One message's JSON of about {@code size} bytes. */
    static byte[] message(int size) {
        String head = "{\"body\":{\"transaction_id\":\"tx-000123\",\"amount\":123.45,\"pad\":\"";
        String tail = "\"},\"metadata\":{\"source\":\"spool-bench\"}}";
        int pad = Math.max(0, size - head.length() - tail.length());
        return (head + "x".repeat(pad) + tail).getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] batch(int size, int count) {
        String one = new String(message(size), StandardCharsets.US_ASCII);
        StringBuilder sb = new StringBuilder(count * (one.length() + 1) + 2).append('[');
        for (int i = 0; i < count; i++) {
            sb.append(i == 0 ? "" : ",").append(one);
        }
        return sb.append(']').toString().getBytes(StandardCharsets.US_ASCII);
    }

    private LatencySummary phase(LoadOptions.Mode mode) throws InterruptedException {
        Recorder recorder = new Recorder(3);
        Map<Integer, LongAdder> errors = new ConcurrentHashMap<>();
        LongAdder requests = new LongAdder();
        LongAdder messages = new LongAdder();
        AtomicLong budget = new AtomicLong(o.messages() == 0 ? Long.MAX_VALUE : o.messages());
        long warmupEnd = System.nanoTime() + o.warmup().toNanos();
        long measureEnd = warmupEnd + o.duration().toNanos();
        Worker[] workers = new Worker[o.connections()];
        Thread[] threads = new Thread[workers.length];
        byte[] push = message(o.size());
        byte[] batch = batch(o.size(), o.batch());
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(mode, push, batch, recorder, errors, requests, messages, budget, warmupEnd, measureEnd);
            threads[i] = new Thread(workers[i], "load-" + i);
            threads[i].setDaemon(true);
            threads[i].start();
        }
        Histogram total = new Histogram(3);
        Histogram interval = null;
        long lastRequests = 0;
        long lastMessages = 0;
        long measureStart = 0;
        boolean started = false;
        String unit = mode == LoadOptions.Mode.PAIR || mode == LoadOptions.Mode.BATCH_PAIR ? "pairs/s" : "msg/s";
        while (anyAlive(threads)) {
            Thread.sleep(1000);
            long now = System.nanoTime();
            if (now < warmupEnd) {
                if (!o.json()) {
                    out.printf(Locale.ROOT, "[%s] warming up%n", label(mode));
                }
                continue;
            }
            if (!started) {
                started = true;
                measureStart = warmupEnd;
            }
            interval = recorder.getIntervalHistogram(interval);
            total.add(interval);
            long r = requests.sum();
            long m = messages.sum();
            long errs = errors.values().stream().mapToLong(LongAdder::sum).sum();
            if (!o.json()) {
                out.printf(Locale.ROOT, "[%s] %5.0fs %10d %s %10d req/s  p99 %.2f ms  errors %d%n", label(mode),
                        (now - measureStart) / 1e9, m - lastMessages, unit, r - lastRequests,
                        interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(99) / 1000.0, errs);
            }
            lastRequests = r;
            lastMessages = m;
        }
        long end = 0;
        for (Worker w : workers) {
            end = Math.max(end, w.finishedAt);
        }
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        Map<Integer, Long> errorCounts = new java.util.TreeMap<>();
        errors.forEach((k, v) -> errorCounts.put(k, v.sum()));
        double seconds = Math.max(1e-9, (Math.min(end, measureEnd) - warmupEnd) / 1e9);
        return LatencySummary.of(label(mode), seconds, requests.sum(), messages.sum(), total, errorCounts);
    }

    private static String label(LoadOptions.Mode mode) {
        return mode.name().toLowerCase(Locale.ROOT);
    }

    private static boolean anyAlive(Thread[] threads) {
        for (Thread t : threads) {
            if (t.isAlive()) {
                return true;
            }
        }
        return false;
    }

    /** Prints the summary; {@code drain} is null for the timed modes. */
    private void print(List<LatencySummary> phases, DrainReport drain) throws IOException {
        if (o.json()) {
            ObjectNode root = JSON.createObjectNode();
            root.put("url", o.url().toString());
            root.put("queue", o.queue());
            root.put("connections", o.connections());
            root.put("size", o.size());
            if (drain != null) {
                root.put("batch", o.batch());
            }
            for (LatencySummary s : phases) {
                ObjectNode n = JSON.valueToTree(s);
                n.put("messages_per_second", s.messagesPerSecond());
                n.put("requests_per_second", s.requestsPerSecond());
                if (drain != null) {
                    if (o.subscriptions() > 0) {
                        n.put("subscriptions", o.subscriptions()).put("per_subscription_messages_per_second",
                                s.messagesPerSecond() / o.subscriptions());
                    }
                    n.put("backlog", drain.backlog()).put("fill_seconds", drain.fillSeconds())
                            .put("delivered", drain.delivered()).put("distinct", drain.distinct())
                            .put("duplicates", drain.duplicates()).put("lost", drain.lost())
                            .put("unexpected", drain.unexpected()).put("ack_rejected", drain.ackRejected())
                            .put("stopped_early", drain.stoppedEarly()).put("complete", drain.complete());
                }
                root.set(s.mode(), n);
            }
            if (phases.size() == 2) {
                root.put("ratio_to_trivial", phases.get(1).requestsPerSecond() / phases.get(0).requestsPerSecond());
            }
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            return;
        }
        out.println();
        for (LatencySummary s : phases) {
            out.println(s.render());
        }
        if (drain != null) {
            out.println(drain.render());
        }
        if (phases.size() == 2) {
            out.printf(Locale.ROOT, "ratio %s/trivial (requests/s): %.2f%n", phases.get(1).mode(),
                    phases.get(1).requestsPerSecond() / phases.get(0).requestsPerSecond());
        }
    }

    /** One connection's request loop. */
    private final class Worker implements Runnable {
        private final LoadOptions.Mode mode;
        private final byte[] push;
        private final byte[] batch;
        private final Recorder recorder;
        private final Map<Integer, LongAdder> errors;
        private final LongAdder requests;
        private final LongAdder messages;
        private final AtomicLong budget;
        private final long warmupEnd;
        private final long measureEnd;
        volatile long finishedAt;

        Worker(LoadOptions.Mode mode, byte[] push, byte[] batch, Recorder recorder, Map<Integer, LongAdder> errors,
               LongAdder requests, LongAdder messages, AtomicLong budget, long warmupEnd, long measureEnd) {
            this.mode = mode;
            this.push = push;
            this.batch = batch;
            this.recorder = recorder;
            this.errors = errors;
            this.requests = requests;
            this.messages = messages;
            this.budget = budget;
            this.warmupEnd = warmupEnd;
            this.measureEnd = measureEnd;
        }

        @Override
        public void run() {
            String q = "/queues/" + o.queue();
            long n = 0;
            try (HttpConnection c = new HttpConnection(o.url(), TIMEOUT_MS)) {
                while (true) {
                    long t0 = System.nanoTime();
                    if (t0 >= measureEnd || budget.get() <= 0) {
                        break;
                    }
                    boolean pullTurn = mode == LoadOptions.Mode.PULL
                            || ((mode == LoadOptions.Mode.PAIR || mode == LoadOptions.Mode.BATCH_PAIR) && (n++ & 1) == 1);
                    // Reserve the messages this request may move, so --messages is met exactly.
                    int reserved = t0 >= warmupEnd ? reservation(pullTurn) : 0;
                    if (reserved > 0 && budget.addAndGet(-reserved) < 0) {
                        budget.addAndGet(reserved);
                        if (mode == LoadOptions.Mode.PAIR && !pullTurn) {
                            continue;
                        }
                        break;
                    }
                    int status;
                    int count = 0;
                    try {
                        HttpConnection.Response r = switch (mode) {
                            case TRIVIAL -> c.send("GET", "/health", null, null, null);
                            case BATCH -> c.send("POST", q + "/messages/batch", token, "application/json", batch);
                            case BATCH_PAIR -> pullTurn ? c.send("GET", q + "/messages?max=" + o.batch(), token, null, null)
                                    : c.send("POST", q + "/messages/batch", token, "application/json", batch);
                            case PUSH, PULL, PAIR -> pullTurn ? c.send("GET", q + "/messages/first", token, null, null)
                                    : c.send("POST", q + "/messages", token, "application/json", push);
                            case DRAIN, LEASE_DRAIN -> throw new IllegalStateException("drain modes run in Drain");
                        };
                        status = r.status();
                        if (status / 100 == 2) {
                            count = messagesIn(mode, pullTurn, r);
                        }
                    } catch (IOException e) {
                        status = 0;
                    }
                    long t1 = System.nanoTime();
                    if (t0 >= warmupEnd) {
                        recorder.recordValue(Math.max(1, (t1 - t0) / 1000));
                        requests.increment();
                        budget.addAndGet(reserved - (status / 100 == 2 ? count : 0));
                        if (status / 100 == 2) {
                            messages.add(count);
                        } else {
                            errors.computeIfAbsent(status, k -> new LongAdder()).increment();
                        }
                    }
                    if (status == 0) {
                        try {
                            Thread.sleep(10);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            break;
                        }
                    }
                }
            } finally {
                finishedAt = System.nanoTime();
            }
        }

        private int reservation(boolean pullTurn) {
            return switch (mode) {
                case BATCH -> o.batch();
                case BATCH_PAIR -> pullTurn ? o.batch() : 0;
                case PAIR -> pullTurn ? 1 : 0;
                case TRIVIAL, PUSH, PULL -> 1;
                case DRAIN, LEASE_DRAIN -> throw new IllegalStateException("drain modes run in Drain");
            };
        }

        private int messagesIn(LoadOptions.Mode m, boolean pullTurn, HttpConnection.Response r) {
            return switch (m) {
                case TRIVIAL, PUSH -> 1;
                case BATCH -> o.batch();
                case PULL -> isNull(r) ? 0 : 1;
                case PAIR -> pullTurn && !isNull(r) ? 1 : 0;
                case BATCH_PAIR -> pullTurn ? countArray(r) : 0;
                case DRAIN, LEASE_DRAIN -> throw new IllegalStateException("drain modes run in Drain");
            };
        }

        /** Messages in a JSON array answer: top-level objects counted without parsing them. */
        private int countArray(HttpConnection.Response r) {
            byte[] b = r.body();
            int depth = 0;
            int count = 0;
            boolean inString = false;
            for (int i = 0; i < b.length; i++) {
                byte c = b[i];
                if (inString) {
                    if (c == '\\') {
                        i++;
                    } else if (c == '"') {
                        inString = false;
                    }
                } else if (c == '"') {
                    inString = true;
                } else if (c == '{' || c == '[') {
                    if (c == '{' && depth == 1) {
                        count++;
                    }
                    depth++;
                } else if (c == '}' || c == ']') {
                    depth--;
                }
            }
            return count;
        }

        private boolean isNull(HttpConnection.Response r) {
            byte[] b = r.body();
            return b.length == 4 && b[0] == 'n' && b[1] == 'u';
        }
    }
}
