package dev.spool.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * A client for the Spool broker, for JVM pipelines: {@code java.net.http} and Jackson, nothing of the broker.
 * Every call has a {@link CompletableFuture} form ({@code ...Async}) and a blocking one. Like the Python client it
 * signs in again on a 401 when it holds credentials, retries with backoff on 429 (waiting as {@code Retry-After}
 * says), 503 and connection errors, and gives every push an idempotency key so that a retry never stores twice.
 * Failures are {@link SpoolException}s carrying the problem's code. Thread-safe.
 */
public final class SpoolClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;
    private final int retries;
    private final Duration backoff;
    private final String user;
    private final String password;
    private volatile String token;

    private SpoolClient(Builder b) {
        this.base = b.url;
        this.timeout = b.timeout;
        this.retries = b.retries;
        this.backoff = b.backoff;
        this.user = b.user;
        this.password = b.password;
        this.token = b.token;
        HttpClient.Builder hb = HttpClient.newBuilder().connectTimeout(b.timeout);
        if (b.sslContext != null) {
            hb.sslContext(b.sslContext);
        }
        this.http = hb.build();
    }

    /** A builder for a broker at {@code url} (for example {@code http://127.0.0.1:7500}). */
    public static Builder to(String url) {
        return new Builder(URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url));
    }

    /** Options of a client. */
    public static final class Builder {
        private final URI url;
        private String user;
        private String password;
        private String token;
        private Duration timeout = Duration.ofSeconds(30);
        private int retries = 5;
        private Duration backoff = Duration.ofMillis(200);
        private SSLContext sslContext;

        private Builder(URI url) {
            this.url = url;
        }

        /** Signs in as {@code user} when needed (and again after a 401). */
        public Builder credentials(String user, String password) {
            this.user = user;
            this.password = password;
            return this;
        }

        /** Uses a token from {@code /login} instead of credentials. */
        public Builder token(String token) {
            this.token = token;
            return this;
        }

        /** How long a request may take (a long poll's {@code wait} is added to it). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Retries of a 429, 503 or connection error before it is reported, and the first backoff (doubling). */
        public Builder retries(int retries, Duration backoff) {
            this.retries = retries;
            this.backoff = backoff;
            return this;
        }

        /** Trusts the certificates of this context for https (for example one holding the broker's CA). */
        public Builder sslContext(SSLContext context) {
            this.sslContext = context;
            return this;
        }

        public SpoolClient build() {
            return new SpoolClient(this);
        }
    }

    // ---- plumbing ------------------------------------------------------------------------------------------

    private static String q(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Where a queue is consumed: its own routes, or a named subscription's ({@code sub} null: the queue's own). */
    private static String from(String queue, String sub) {
        return "/queues/" + q(queue) + (sub == null ? "" : "/subscriptions/" + q(sub));
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof SpoolException s) {
                throw s;
            }
            throw e;
        }
    }

    /** One request, retried and re-signed-in as the class says; the decoded JSON answer (null for none). */
    public CompletableFuture<JsonNode> sendAsync(String method, String path, Object body, Map<String, String> headers,
                                                 boolean auth, Duration extraTime) {
        byte[] bytes;
        try {
            bytes = body == null ? null : JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new SpoolException(0, "BAD_INPUT", e.getMessage(), 0));
        }
        return attempt(method, path, bytes, headers, auth, extraTime, 0, false);
    }

    private CompletableFuture<JsonNode> attempt(String method, String path, byte[] body, Map<String, String> headers,
                                                boolean auth, Duration extraTime, int tries, boolean relogged) {
        CompletableFuture<String> signedIn = !auth || token != null ? CompletableFuture.completedFuture(token)
                : loginAsync().thenApply(x -> token);
        return signedIn.thenCompose(t -> {
            HttpRequest.Builder rb = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout.plus(extraTime))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            if (body != null) {
                rb.header("Content-Type", "application/json");
            }
            if (auth) {
                rb.header("Authorization", "Bearer " + t);
            }
            headers.forEach(rb::header);
            return http.sendAsync(rb.build(), HttpResponse.BodyHandlers.ofByteArray()).handle((r, err) -> {
                if (err != null) {
                    if (tries < retries) {
                        return later(backoff.multipliedBy(1L << tries),
                                () -> attempt(method, path, body, headers, auth, extraTime, tries + 1, relogged));
                    }
                    return CompletableFuture.<JsonNode>failedFuture(new SpoolException(0, "CONNECTION_FAILED",
                            String.valueOf(err.getCause() == null ? err : err.getCause()), 0));
                }
                if (r.statusCode() / 100 == 2) {
                    return CompletableFuture.completedFuture(decode(r));
                }
                SpoolException problem = problem(r);
                if (r.statusCode() == 401 && auth && !relogged && password != null) {
                    token = null;
                    return attempt(method, path, body, headers, true, extraTime, tries, true);
                }
                if ((r.statusCode() == 429 || r.statusCode() == 503) && tries < retries) {
                    Duration wait = problem.retryAfterSeconds() > 0 ? Duration.ofSeconds(problem.retryAfterSeconds())
                            : backoff.multipliedBy(1L << tries);
                    return later(wait, () -> attempt(method, path, body, headers, auth, extraTime, tries + 1, relogged));
                }
                return CompletableFuture.<JsonNode>failedFuture(problem);
            }).thenCompose(f -> f);
        });
    }

    private static CompletableFuture<JsonNode> later(Duration d, java.util.function.Supplier<CompletableFuture<JsonNode>> next) {
        return CompletableFuture.supplyAsync(() -> null,
                CompletableFuture.delayedExecutor(d.toMillis(), TimeUnit.MILLISECONDS)).thenCompose(x -> next.get());
    }

    private static JsonNode decode(HttpResponse<byte[]> r) {
        if (r.body().length == 0 || !r.headers().firstValue("Content-Type").orElse("").contains("json")) {
            return null;
        }
        try {
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new SpoolException(r.statusCode(), "BAD_ANSWER", e.getMessage(), 0);
        }
    }

    private static SpoolException problem(HttpResponse<byte[]> r) {
        JsonNode p = null;
        try {
            p = r.body().length == 0 ? null : JSON.readTree(r.body());
        } catch (IOException e) {
            // not a problem document
        }
        long retryAfter = r.headers().firstValue("Retry-After").map(Long::parseLong).orElse(0L);
        return new SpoolException(r.statusCode(), p == null ? "HTTP_" + r.statusCode() : p.path("code").asText(),
                p == null ? "" : p.path("detail").asText(), retryAfter);
    }

    private JsonNode call(String method, String path, Object body) {
        return join(sendAsync(method, path, body, Map.of(), true, Duration.ZERO));
    }

    // ---- auth and users ------------------------------------------------------------------------------------

    /** Signs in with the held credentials; completes with the token. */
    public CompletableFuture<String> loginAsync() {
        if (user == null || password == null) {
            return CompletableFuture.failedFuture(new SpoolException(401, "UNAUTHORIZED", "no token and no credentials", 0));
        }
        return sendAsync("POST", "/login", Map.of("username", user, "password", password), Map.of(), false, Duration.ZERO)
                .thenApply(r -> {
                    token = r.get("token").asText();
                    return token;
                });
    }

    public String login() {
        return join(loginAsync());
    }

    public void logout() {
        call("POST", "/logout", null);
        token = null;
    }

    public List<JsonNode> users() {
        return list(call("GET", "/users", null));
    }

    public void addUser(String name, String password, String role) {
        call("POST", "/users/" + q(name), Map.of("password", password, "role", role));
    }

    public int deleteUser(String name) {
        return call("DELETE", "/users/" + q(name), null).get("revoked_tokens").asInt();
    }

    public int setPassword(String name, String password) {
        return call("PUT", "/users/" + q(name) + "/password", Map.of("password", password)).get("revoked_tokens").asInt();
    }

    // ---- queues --------------------------------------------------------------------------------------------

    public List<String> queues() {
        List<String> out = new ArrayList<>();
        call("GET", "/queues", null).forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Creates a queue; {@code options} as the API takes them ({@code type}, {@code max_length}, ...), or empty. */
    public void create(String name, Map<String, Object> options) {
        call("POST", "/queues/" + q(name), options.isEmpty() ? null : options);
    }

    public void delete(String name) {
        call("DELETE", "/queues/" + q(name), null);
    }

    public JsonNode stats(String name) {
        return call("GET", "/queues/" + q(name), null);
    }

    public int redrive(String name) {
        return call("POST", "/queues/" + q(name) + "/redrive", null).get("moved").asInt();
    }

    // ---- subscriptions -------------------------------------------------------------------------------------

    /**
     * Creates a named subscription of {@code queue}: it receives every message pushed from where {@code options}
     * says ({@code "start": "earliest"|"latest"} (the default), {@code "id": N} or {@code "from_time": RFC 3339}),
     * with its own position, leases and dead-letter queue (also {@code max_deliveries}, {@code dead_letter_queue},
     * {@code paused}). Returns the subscription's document.
     */
    public JsonNode createSubscription(String queue, String name, Map<String, Object> options) {
        return call("POST", from(queue, name), options == null || options.isEmpty() ? null : options);
    }

    /** Every named subscription of {@code queue}, each with its backlog, in-flight count and oldest message's age. */
    public List<JsonNode> subscriptions(String queue) {
        return list(call("GET", "/queues/" + q(queue) + "/subscriptions", null).get("subscriptions"));
    }

    /** A handle on subscription {@code name} of {@code queue}: consume through it, seek it, pause or delete it. */
    public Subscription subscription(String queue, String name) {
        return new Subscription(this, queue, name);
    }

    /** One named subscription of a queue: every consuming call of the queue's, through it. */
    public static final class Subscription {
        private final SpoolClient client;
        private final String queue;
        private final String name;
        private final String base;

        Subscription(SpoolClient client, String queue, String name) {
            this.client = client;
            this.queue = queue;
            this.name = name;
            this.base = from(queue, name);
        }

        public String queue() {
            return queue;
        }

        public String name() {
            return name;
        }

        /** Its document: position, backlog, in flight, oldest message's age, paused. */
        public JsonNode info() {
            return client.call("GET", base, null);
        }

        /** Moves it (the replay) to {@code {"start": ...}}, {@code {"id": N}} or {@code {"from_time": ...}}. */
        public JsonNode seek(Map<String, Object> start) {
            return client.call("POST", base + "/seek", start);
        }

        public JsonNode pause() {
            return client.call("POST", base + "/pause", null);
        }

        public JsonNode resume() {
            return client.call("POST", base + "/resume", null);
        }

        public void delete() {
            client.call("DELETE", base, null);
        }

        /** Moves its dead letters back to it alone. */
        public int redrive() {
            return client.call("POST", base + "/redrive", null).get("moved").asInt();
        }

        public Message pull(int waitSeconds) {
            return join(client.pullAt(base, waitSeconds));
        }

        public List<Message> pullBatch(int max, int waitSeconds) {
            return client.pullBatchAt(base, max, waitSeconds);
        }

        public List<Lease> lease(int max, int waitSeconds, int visibilitySeconds) {
            return join(client.leaseAt(base, queue, max, waitSeconds, visibilitySeconds));
        }

        public Iterable<Lease> leases(int max, int waitSeconds, int visibilitySeconds,
                                      java.util.function.BooleanSupplier stop) {
            return client.leasesAt(() -> lease(max, waitSeconds, visibilitySeconds), stop);
        }

        public JsonNode ack(List<String> leases) {
            return client.settleAt(base, "acks", Map.of("leases", leases));
        }

        public JsonNode nack(List<String> leases, int delaySeconds) {
            return client.settleAt(base, "nacks", Map.of("leases", leases, "delay_seconds", delaySeconds));
        }

        public JsonNode renew(List<String> leases, int visibilitySeconds) {
            return client.settleAt(base, "renewals", Map.of("leases", leases, "visibility_seconds", visibilitySeconds));
        }
    }

    // ---- messages ------------------------------------------------------------------------------------------

    /** Pushes one message; completes with its id. A retry carries the same idempotency key ({@code key} or a new one). */
    public CompletableFuture<Long> pushAsync(String queue, Object body, Map<String, Object> metadata, String key) {
        ObjectNode msg = JSON.createObjectNode();
        msg.set("body", JSON.valueToTree(body));
        if (metadata != null && !metadata.isEmpty()) {
            msg.set("metadata", JSON.valueToTree(metadata));
        }
        return sendAsync("POST", "/queues/" + q(queue) + "/messages", msg,
                Map.of("Idempotency-Key", key == null ? UUID.randomUUID().toString() : key), true, Duration.ZERO)
                .thenApply(r -> r.get("id").asLong());
    }

    public long push(String queue, Object body) {
        return join(pushAsync(queue, body, null, null));
    }

    public long push(String queue, Object body, Map<String, Object> metadata, String idempotencyKey) {
        return join(pushAsync(queue, body, metadata, idempotencyKey));
    }

    /**
     * Pushes bodies in batches of {@code batchSize} (each all or nothing), each message with an idempotency key;
     * completes with their ids in order.
     */
    public CompletableFuture<List<Long>> pushBatchAsync(String queue, Iterable<?> bodies, int batchSize) {
        CompletableFuture<List<Long>> done = CompletableFuture.completedFuture(new ArrayList<>());
        Iterator<?> it = bodies.iterator();
        while (it.hasNext()) {
            ArrayNode chunk = JSON.createArrayNode();
            while (it.hasNext() && chunk.size() < batchSize) {
                ObjectNode m = chunk.addObject();
                m.set("body", JSON.valueToTree(it.next()));
                m.putObject("metadata").put("idempotency_key", UUID.randomUUID().toString());
            }
            done = done.thenCompose(ids -> sendAsync("POST", "/queues/" + q(queue) + "/messages/batch", chunk, Map.of(),
                    true, Duration.ZERO).thenApply(r -> {
                        r.get("ids").forEach(id -> ids.add(id.asLong()));
                        return ids;
                    }));
        }
        return done;
    }

    public List<Long> pushBatch(String queue, Iterable<?> bodies, int batchSize) {
        return join(pushBatchAsync(queue, bodies, batchSize));
    }

    /** Takes the oldest message for good, or null after waiting up to {@code waitSeconds}. */
    public CompletableFuture<Message> pullAsync(String queue, int waitSeconds) {
        return pullAt(from(queue, null), waitSeconds);
    }

    private CompletableFuture<Message> pullAt(String base, int waitSeconds) {
        return sendAsync("GET", base + "/messages/first?wait=" + waitSeconds, null, Map.of(), true,
                Duration.ofSeconds(waitSeconds)).thenApply(r -> r == null || r.isNull() ? null : Message.of(r));
    }

    public Message pull(String queue, int waitSeconds) {
        return join(pullAsync(queue, waitSeconds));
    }

    public List<Message> pullBatch(String queue, int max, int waitSeconds) {
        return pullBatchAt(from(queue, null), max, waitSeconds);
    }

    private List<Message> pullBatchAt(String base, int max, int waitSeconds) {
        List<Message> out = new ArrayList<>();
        join(sendAsync("GET", base + "/messages?max=" + max + "&wait=" + waitSeconds, null, Map.of(),
                true, Duration.ofSeconds(waitSeconds))).forEach(m -> out.add(Message.of(m)));
        return out;
    }

    // ---- leases --------------------------------------------------------------------------------------------

    /** Leases up to {@code max} messages, waiting up to {@code waitSeconds} for the first. */
    public CompletableFuture<List<Lease>> leaseAsync(String queue, int max, int waitSeconds, int visibilitySeconds) {
        return leaseAt(from(queue, null), queue, max, waitSeconds, visibilitySeconds);
    }

    private CompletableFuture<List<Lease>> leaseAt(String base, String queue, int max, int waitSeconds,
                                                   int visibilitySeconds) {
        return sendAsync("POST", base + "/leases?max=" + max + "&wait=" + waitSeconds
                + "&visibility=" + visibilitySeconds, null, Map.of(), true, Duration.ofSeconds(waitSeconds))
                .thenApply(r -> {
                    List<Lease> out = new ArrayList<>();
                    r.forEach(m -> out.add(new Lease(this, queue, base, m)));
                    return out;
                });
    }

    public List<Lease> lease(String queue, int max, int waitSeconds, int visibilitySeconds) {
        return join(leaseAsync(queue, max, waitSeconds, visibilitySeconds));
    }

    /** Acknowledges leases; the answer's {@code acked} and {@code rejected}. */
    public JsonNode ack(String queue, List<String> leases) {
        return settleAt(from(queue, null), "acks", Map.of("leases", leases));
    }

    public JsonNode nack(String queue, List<String> leases, int delaySeconds) {
        return settleAt(from(queue, null), "nacks", Map.of("leases", leases, "delay_seconds", delaySeconds));
    }

    public JsonNode renew(String queue, List<String> leases, int visibilitySeconds) {
        return settleAt(from(queue, null), "renewals", Map.of("leases", leases, "visibility_seconds", visibilitySeconds));
    }

    private JsonNode settleAt(String base, String what, Map<String, Object> body) {
        return call("POST", base + "/" + what, body);
    }

    /**
     * Leases forever (or until {@code stop} returns true), long-polling when the queue is empty: for a worker loop
     * {@code for (Lease l : client.leases(...)) try (l) { ...; l.ack(); }}.
     */
    public Iterable<Lease> leases(String queue, int max, int waitSeconds, int visibilitySeconds,
                                  java.util.function.BooleanSupplier stop) {
        return leasesAt(() -> lease(queue, max, waitSeconds, visibilitySeconds), stop);
    }

    private Iterable<Lease> leasesAt(java.util.function.Supplier<List<Lease>> batch,
                                     java.util.function.BooleanSupplier stop) {
        return () -> new Iterator<>() {
            private final java.util.ArrayDeque<Lease> ready = new java.util.ArrayDeque<>();

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && !stop.getAsBoolean()) {
                    ready.addAll(batch.get());
                }
                return !ready.isEmpty();
            }

            @Override
            public Lease next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    // ---- operations ----------------------------------------------------------------------------------------

    /** {@code GET /health/ready}: the readiness document (a 503 answer is a {@link SpoolException}). */
    public JsonNode health() {
        return join(sendAsync("GET", "/health/ready", null, Map.of(), false, Duration.ZERO));
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out;
    }

    /** Nothing to release: {@link HttpClient} closes its connections when it is collected (Java 17). */
    @Override
    public void close() {
        token = null;
    }

    /** A message pulled for good. */
    public record Message(long id, JsonNode body, JsonNode metadata) {
        static Message of(JsonNode m) {
            return new Message(m.get("id").asLong(), m.get("body"), m.path("metadata"));
        }
    }

    /** A leased message; as an {@link AutoCloseable} it nacks unless {@link #ack()} was called (try-with-resources). */
    public static final class Lease implements AutoCloseable {
        private final SpoolClient client;
        private final String queue;
        /** The path it was leased at: the queue's, or a subscription's. */
        private final String base;
        private final long id;
        private final String lease;
        private final int delivery;
        private final JsonNode body;
        private final JsonNode metadata;
        private volatile boolean settled;
        private volatile SpoolException renewalError;

        Lease(SpoolClient client, String queue, String base, JsonNode m) {
            this.client = client;
            this.queue = queue;
            this.base = base;
            this.id = m.get("id").asLong();
            this.lease = m.get("lease").asText();
            this.delivery = m.get("delivery").asInt();
            this.body = m.get("body");
            this.metadata = m.path("metadata");
        }

        /** The queue it was leased from. */
        public String queue() {
            return queue;
        }

        public long id() {
            return id;
        }

        public String token() {
            return lease;
        }

        public int delivery() {
            return delivery;
        }

        public JsonNode body() {
            return body;
        }

        public JsonNode metadata() {
            return metadata;
        }

        /**
         * True if acknowledged (false if the lease had expired or was unknown). When an automatic renewal was
         * refused before ({@link #autoRenew}) and the ack is refused too, throws that refusal instead.
         */
        public boolean ack() {
            settled = true;
            boolean acked = client.settleAt(base, "acks", Map.of("leases", List.of(lease))).get("acked").asInt() == 1;
            SpoolException lost = renewalError;
            if (!acked && lost != null) {
                throw lost;
            }
            return acked;
        }

        /** Why an automatic renewal failed ({@code LEASE_LOST}), or null while none has. */
        public SpoolException renewalError() {
            return renewalError;
        }

        /**
         * Throws the refusal of an automatic renewal, if there was one: another worker may have the message now
         * (call it between steps of a long job).
         */
        public void checkRenewal() {
            SpoolException lost = renewalError;
            if (lost != null) {
                throw lost;
            }
        }

        public boolean nack(int delaySeconds) {
            settled = true;
            return client.settleAt(base, "nacks", Map.of("leases", List.of(lease), "delay_seconds", delaySeconds))
                    .get("released").asInt() == 1;
        }

        public boolean renew(int visibilitySeconds) {
            return client.settleAt(base, "renewals", Map.of("leases", List.of(lease), "visibility_seconds",
                    visibilitySeconds)).get("renewed").asInt() == 1;
        }

        /**
         * Renews the lease for {@code visibilitySeconds} every {@code every} until it is acked or nacked (for long
         * jobs), on a daemon thread of its own. A renewal the broker refuses (the lease expired, or the request is
         * refused) stops the renewals and is not silent: {@link #renewalError()} holds it, {@link #checkRenewal()}
         * and a refused {@link #ack()} throw it (code {@code LEASE_LOST}). A renewal that cannot reach the broker is
         * tried again while the lease may still be live.
         */
        public Lease autoRenew(int visibilitySeconds, Duration every) {
            Thread t = new Thread(() -> {
                long renewedAt = System.nanoTime();
                try {
                    while (!settled) {
                        Thread.sleep(every.toMillis());
                        if (settled) {
                            return;
                        }
                        String why;
                        int status = 200;
                        try {
                            if (renew(visibilitySeconds)) {
                                renewedAt = System.nanoTime();
                                continue;
                            }
                            why = "the renewal was refused: the lease had expired or was settled";
                        } catch (SpoolException e) {
                            boolean unreachable = e.status() == 0 || e.status() == 502 || e.status() == 503
                                    || e.status() == 504;
                            if (unreachable && System.nanoTime() - renewedAt < visibilitySeconds * 1_000_000_000L) {
                                continue; // the broker was out of reach; the lease may still be live
                            }
                            why = "the renewal failed: " + e.getMessage();
                            status = e.status();
                        }
                        if (!settled) {
                            renewalError = new SpoolException(status, "LEASE_LOST", "lease " + lease + ": " + why, 0);
                        }
                        return;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "spool-renew-" + id);
            t.setDaemon(true);
            t.start();
            return this;
        }

        /** Releases the message for redelivery if the work did not ack it. */
        @Override
        public void close() {
            if (!settled) {
                nack(0);
            }
        }
    }
}
