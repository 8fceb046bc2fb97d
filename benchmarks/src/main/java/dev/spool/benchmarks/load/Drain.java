package dev.spool.benchmarks.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.benchmarks.client.HttpConnection;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code --mode drain} and {@code --mode lease-drain}: pushes a backlog in batches (not measured), then
 * empties the queue over {@code --connections} keep-alive connections, {@code --batch} messages a request,
 * until it answers empty; then checks every pushed id against the ids received.
 */
final class Drain {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TIMEOUT_MS = 30_000;
    /** Filling is not measured; a few connections let group commit cover several batches under fsync always. */
    static final int FILL_CONNECTIONS = 4;
    /** Long enough that no lease expires before its ack even on a loaded machine: an expiry would redeliver. */
    static final int VISIBILITY_SECONDS = 60;

    private final LoadOptions o;
    private final String token;
    private final PrintStream out;
    private final String q;
    private final boolean leases;
    /** Lease visibility: {@link #VISIBILITY_SECONDS}, or less where the queue's backend allows less. */
    private long visibility = VISIBILITY_SECONDS;

    Drain(LoadOptions o, String token, PrintStream out) {
        this.o = o;
        this.token = token;
        this.out = out;
        this.q = "/queues/" + o.queue();
        this.leases = o.mode() == LoadOptions.Mode.LEASE_DRAIN;
    }

    DrainReport run() throws IOException, InterruptedException {
        progress("filling %d messages of %d bytes, %d a batch, over %d connections", o.backlog(), o.size(), o.batch(),
                FILL_CONNECTIONS);
        long fillStart = System.nanoTime();
        long[] pushed = fill();
        visibility = visibility();
        double fillSeconds = (System.nanoTime() - fillStart) / 1e9;
        progress("filled in %.1f s; draining over %d connection(s), %d a request", fillSeconds, o.connections(),
                o.batch());

        Recorder recorder = new Recorder(3);
        Map<Integer, LongAdder> errors = new ConcurrentHashMap<>();
        LongAdder requests = new LongAdder();
        LongAdder messages = new LongAdder();
        LongAdder ackRejected = new LongAdder();
        long start = System.nanoTime();
        long deadline = start + o.duration().toNanos();
        // The queue itself, or each of its subscriptions at once, with --connections connections each.
        List<String> paths = new ArrayList<>();
        if (o.subscriptions() == 0) {
            paths.add(q);
        }
        for (int k = 1; k <= o.subscriptions(); k++) {
            paths.add(q + "/subscriptions/s" + k);
        }
        Worker[] workers = new Worker[o.connections() * paths.size()];
        Thread[] threads = new Thread[workers.length];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(paths.get(i / o.connections()), recorder, errors, requests, messages, ackRejected,
                    deadline);
            threads[i] = new Thread(workers[i], "drain-" + i);
            threads[i].setDaemon(true);
            threads[i].start();
        }
        Histogram total = new Histogram(3);
        Histogram interval = null;
        long lastRequests = 0;
        long lastMessages = 0;
        for (Thread t : threads) {
            while (t.isAlive()) {
                t.join(1000);
                interval = recorder.getIntervalHistogram(interval);
                total.add(interval);
                long r = requests.sum();
                long m = messages.sum();
                if (!o.json() && t.isAlive()) {
                    progress("%5.0fs %10d msg/s %10d req/s  p99 %.2f ms  errors %d", (System.nanoTime() - start) / 1e9,
                            m - lastMessages, r - lastRequests,
                            interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(99) / 1000.0,
                            errors.values().stream().mapToLong(LongAdder::sum).sum());
                }
                lastRequests = r;
                lastMessages = m;
            }
        }
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        long end = start;
        for (Worker w : workers) {
            end = Math.max(end, w.finishedAt);
        }
        Map<Integer, Long> errorCounts = new TreeMap<>();
        errors.forEach((k, v) -> errorCounts.put(k, v.sum()));
        LatencySummary summary = LatencySummary.of(o.mode().name().toLowerCase(Locale.ROOT), (end - start) / 1e9,
                requests.sum(), messages.sum(), total, errorCounts);
        // Every path (the queue, or each subscription) must have received every pushed message once.
        DrainReport all = null;
        for (String path : paths) {
            boolean stoppedEarly = false;
            int received = 0;
            for (Worker w : workers) {
                if (w.path.equals(path)) {
                    stoppedEarly |= !w.sawEmpty;
                    received += w.count;
                }
            }
            long[] ids = new long[received];
            int at = 0;
            for (Worker w : workers) {
                if (w.path.equals(path)) {
                    System.arraycopy(w.ids, 0, ids, at, w.count);
                    at += w.count;
                }
            }
            DrainReport one = account(summary, pushed, ids, fillSeconds, 0, stoppedEarly);
            all = all == null ? one : new DrainReport(summary, all.backlog(), fillSeconds,
                    all.delivered() + one.delivered(), all.distinct() + one.distinct(), all.lost() + one.lost(),
                    all.unexpected() + one.unexpected(), 0, all.stoppedEarly() || one.stoppedEarly());
        }
        return new DrainReport(summary, all.backlog(), fillSeconds, all.delivered(), all.distinct(), all.lost(),
                all.unexpected(), ackRejected.sum(), all.stoppedEarly());
    }

    /** Compares the ids received with the ids pushed. */
    static DrainReport account(LatencySummary summary, long[] pushed, long[] received, double fillSeconds,
                               long ackRejected, boolean stoppedEarly) {
        long[] p = pushed.clone();
        long[] r = received.clone();
        Arrays.sort(p);
        Arrays.sort(r);
        long distinct = 0;
        long lost = 0;
        long unexpected = 0;
        int i = 0;
        int j = 0;
        while (i < p.length || j < r.length) {
            if (j < r.length && j > 0 && r[j] == r[j - 1]) {
                j++; // a repeat: counted as delivered, not distinct
            } else if (j >= r.length || (i < p.length && p[i] < r[j])) {
                lost++;
                i++;
            } else if (i >= p.length || r[j] < p[i]) {
                distinct++;
                unexpected++;
                j++;
            } else {
                distinct++;
                i++;
                j++;
            }
        }
        return new DrainReport(summary, pushed.length, fillSeconds, received.length, distinct, lost, unexpected,
                ackRejected, stoppedEarly);
    }

    /** Pushes the backlog; returns the ids the broker gave it. Fails on any refused batch. */
    /** The queue's longest lease if its backend states one below {@link #VISIBILITY_SECONDS} (Kafka does). */
    private long visibility() throws IOException {
        try (HttpConnection c = new HttpConnection(o.url(), TIMEOUT_MS)) {
            HttpConnection.Response r = c.send("GET", q, token, null, null);
            JsonNode max = r.status() == 200 ? JSON.readTree(r.body()).path("guarantees").path("max_visibility_seconds")
                    : null;
            return max != null && max.canConvertToLong() ? Math.min(VISIBILITY_SECONDS, max.asLong()) : VISIBILITY_SECONDS;
        }
    }

    private long[] fill() throws IOException, InterruptedException {
        AtomicLong remaining = new AtomicLong(o.backlog());
        byte[] full = LoadTool.batch(o.size(), o.batch());
        ExecutorService pool = Executors.newFixedThreadPool(FILL_CONNECTIONS);
        try {
            List<Future<long[]>> parts = new ArrayList<>();
            for (int i = 0; i < FILL_CONNECTIONS; i++) {
                parts.add(pool.submit(() -> fillPart(remaining, full)));
            }
            List<long[]> ids = new ArrayList<>();
            for (Future<long[]> f : parts) {
                try {
                    ids.add(f.get());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
                }
            }
            long[] all = new long[ids.stream().mapToInt(a -> a.length).sum()];
            int at = 0;
            for (long[] a : ids) {
                System.arraycopy(a, 0, all, at, a.length);
                at += a.length;
            }
            return all;
        } finally {
            pool.shutdownNow();
        }
    }

    private long[] fillPart(AtomicLong remaining, byte[] full) throws IOException {
        long[] ids = new long[1024];
        int count = 0;
        try (HttpConnection c = new HttpConnection(o.url(), TIMEOUT_MS)) {
            while (true) {
                long left = remaining.getAndAdd(-o.batch());
                if (left <= 0) {
                    return Arrays.copyOf(ids, count);
                }
                int n = (int) Math.min(left, o.batch());
                HttpConnection.Response r = c.send("POST", q + "/messages/batch", token, "application/json",
                        n == o.batch() ? full : LoadTool.batch(o.size(), n));
                if (r.status() != 201) {
                    throw new IllegalStateException("filling the backlog: a batch push was answered " + r.status() + ": "
                            + r.text());
                }
                for (JsonNode id : JSON.readTree(r.body()).path("ids")) {
                    if (count == ids.length) {
                        ids = Arrays.copyOf(ids, count * 2);
                    }
                    ids[count++] = id.asLong();
                }
            }
        }
    }

    private void progress(String format, Object... args) {
        if (!o.json()) {
            out.printf(Locale.ROOT, "[" + o.mode().name().toLowerCase(Locale.ROOT) + "] " + format + "%n", args);
        }
    }

    /** One connection: pull (or lease then ack) until the queue answers empty. */
    private final class Worker implements Runnable {
        /** Where it drains: the queue, or one of its subscriptions. */
        final String path;
        private final Recorder recorder;
        private final Map<Integer, LongAdder> errors;
        private final LongAdder requests;
        private final LongAdder messages;
        private final LongAdder ackRejected;
        private final long deadline;
        long[] ids = new long[1024];
        int count;
        volatile boolean sawEmpty;
        volatile long finishedAt;

        Worker(String path, Recorder recorder, Map<Integer, LongAdder> errors, LongAdder requests, LongAdder messages,
               LongAdder ackRejected, long deadline) {
            this.path = path;
            this.recorder = recorder;
            this.errors = errors;
            this.requests = requests;
            this.messages = messages;
            this.ackRejected = ackRejected;
            this.deadline = deadline;
        }

        @Override
        public void run() {
            String take = leases ? path + "/leases?max=" + o.batch() + "&visibility=" + visibility
                    : path + "/messages?max=" + o.batch();
            try (HttpConnection c = new HttpConnection(o.url(), TIMEOUT_MS)) {
                while (System.nanoTime() < deadline) {
                    HttpConnection.Response r = timed(c, leases ? "POST" : "GET", take, null);
                    if (r == null) {
                        continue;
                    }
                    if (r.status() / 100 != 2) {
                        return; // a refusal (missing queue, bad token) would repeat on every request
                    }
                    Deliveries d = Deliveries.scan(r.body(), leases);
                    if (d.size() == 0) {
                        sawEmpty = true;
                        return;
                    }
                    record(d.ids());
                    if (!leases) {
                        messages.add(d.size());
                    } else if (!ack(c, d.leases())) {
                        return;
                    }
                }
            } finally {
                finishedAt = System.nanoTime();
            }
        }

        /** Acks every lease of one answer; false if the ack request itself failed. */
        private boolean ack(HttpConnection c, List<String> tokens) {
            ByteArrayOutputStream body = new ByteArrayOutputStream(tokens.size() * 48 + 16);
            body.writeBytes("{\"leases\":[".getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < tokens.size(); i++) {
                body.writeBytes((i == 0 ? "\"" : ",\"").getBytes(StandardCharsets.US_ASCII));
                body.writeBytes(tokens.get(i).getBytes(StandardCharsets.UTF_8));
                body.write('"');
            }
            body.writeBytes("]}".getBytes(StandardCharsets.US_ASCII));
            HttpConnection.Response r;
            while ((r = timed(c, "POST", path + "/acks", body.toByteArray())) == null) {
                if (System.nanoTime() >= deadline) {
                    return false;
                }
            }
            if (r.status() != 200) {
                return false;
            }
            JsonNode answer;
            try {
                answer = JSON.readTree(r.body());
            } catch (IOException e) {
                throw new IllegalStateException("an ack answer is not JSON: " + r.text(), e);
            }
            messages.add(answer.path("acked").asLong());
            ackRejected.add(answer.path("rejected").size());
            return true;
        }

        /**
         * One request, its latency recorded; null after an I/O error (counted as status 0), which is worth
         * retrying after a pause.
         */
        private HttpConnection.Response timed(HttpConnection c, String method, String path, byte[] body) {
            long t0 = System.nanoTime();
            HttpConnection.Response r;
            try {
                r = c.send(method, path, token, body == null ? null : "application/json", body);
            } catch (IOException e) {
                r = null;
            }
            recorder.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
            requests.increment();
            int status = r == null ? 0 : r.status();
            if (status / 100 != 2) {
                errors.computeIfAbsent(status, k -> new LongAdder()).increment();
            }
            if (r == null) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return r;
        }

        private void record(long[] more) {
            if (count + more.length > ids.length) {
                ids = Arrays.copyOf(ids, Math.max(ids.length * 2, count + more.length));
            }
            System.arraycopy(more, 0, ids, count, more.length);
            count += more.length;
        }
    }
}
