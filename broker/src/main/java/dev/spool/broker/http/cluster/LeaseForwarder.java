package dev.spool.broker.http.cluster;

import dev.spool.broker.http.ApiException;
import dev.spool.broker.http.ErrorCode;
import dev.spool.broker.http.Json;
import dev.spool.broker.http.SettleForwarding;
import dev.spool.broker.http.net.TlsContexts;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.storage.SettleResult;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

import javax.net.ssl.SSLContext;

/**
 * Sends the settlement of leases issued by another node of a cluster to that node, with the caller's own
 * credentials, and reads its answer back as a {@link SettleResult.Settled}. A node that refuses the connection
 * has gone: its leases come back to the queue when Kafka's lock on them runs out, so they are answered
 * {@code expired}. Any other failure (no answer in time, a 5xx, a TLS handshake that fails) leaves the outcome
 * unknown and fails the whole request with 503, so the client retries; the owner's 401 or 403 is the caller's.
 * A forwarded request carries {@link #HEADER} and is never forwarded again.
 */
public final class LeaseForwarder implements SettleForwarding {
    /** Marks a request one node sent another; its value names the sending node's URL. */
    private static final Logger LOG = LoggerFactory.getLogger(LeaseForwarder.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** Trusts the JDK's store and this node's keystore; null without {@code server.tls}. */
    private final SSLContext tls;
    /** Made at the first forward: a broker on one machine never needs it. */
    private volatile HttpClient client;

    /**
     * @param tls this node's {@code server.tls}, or null: with it, other nodes' HTTPS certificates are trusted
     *            when the JDK trusts them or this node's keystore holds them (see {@link TlsContexts#forwarding})
     */
    public LeaseForwarder(BrokerConfig.Tls tls) {
        this.tls = tls == null ? null : TlsContexts.forwarding(tls); // a keystore it cannot read stops the start
    }

    private HttpClient client() {
        HttpClient c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3))
                            .version(HttpClient.Version.HTTP_1_1);
                    if (tls != null) {
                        b.sslContext(tls);
                    }
                    client = b.build();
                }
                c = client;
            }
        }
        return c;
    }

    /**
     * @param path          {@code acks}, {@code nacks} or {@code renewals}
     * @param field         the answer's count field ({@code acked}, {@code released}, {@code renewed})
     * @param request       the client's body; its other fields (delay, visibility) go along
     * @param authorization the client's Authorization header
     */
    @Override
    public CompletableFuture<SettleResult.Settled> forward(String ownerUrl, String queue, Settlement kind, String field,
                                                           JsonNode request, List<String> leases,
                                                           String authorization) {
        ObjectNode body = request.deepCopy();
        body.putArray("leases").addAll(leases.stream().map(Json.MAPPER.getNodeFactory()::textNode).toList());
        HttpRequest r;
        try {
            r = HttpRequest.newBuilder(URI.create(ownerUrl + "/queues/" + URLEncoder.encode(queue, StandardCharsets.UTF_8)
                            .replace("+", "%20") + "/" + path(kind)))
                    .timeout(TIMEOUT)
                    .header("Content-Type", "application/json")
                    .header("Authorization", authorization == null ? "" : authorization)
                    .header(HEADER, "1")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                    .build();
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(all(leases, SettleResult.Reason.EXPIRED));
        }
        return client().sendAsync(r, HttpResponse.BodyHandlers.ofByteArray()).handle((resp, err) -> {
            if (err != null) {
                Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                        ? err.getCause() : err;
                if (cause instanceof java.net.ConnectException) {
                    LOG.warn("node at {} holding {} lease(s) of '{}' is gone ({}); answering expired", ownerUrl,
                            leases.size(), queue, cause.toString());
                    return all(leases, SettleResult.Reason.EXPIRED);
                }
                throw unknownOutcome(ownerUrl, cause.toString());
            }
            int status = resp.statusCode();
            if (status == 404) {
                return all(leases, SettleResult.Reason.UNKNOWN);
            }
            if (status == 401 || status == 403) {
                throw new ApiException(status == 401 ? ErrorCode.UNAUTHORIZED : ErrorCode.FORBIDDEN,
                        "the node holding the lease refused the credentials: " + new String(resp.body(),
                                java.nio.charset.StandardCharsets.UTF_8));
            }
            try {
                JsonNode out = Json.MAPPER.readTree(resp.body());
                if (status != 200 || !out.path(field).isInt() || !out.path("rejected").isArray()) {
                    throw unknownOutcome(ownerUrl, "answered " + status + ": " + out);
                }
                List<SettleResult.Rejected> rejected = new ArrayList<>();
                for (JsonNode x : out.get("rejected")) {
                    rejected.add(new SettleResult.Rejected(x.path("lease").asText(),
                            SettleResult.Reason.valueOf(x.path("reason").asText().toUpperCase(Locale.ROOT))));
                }
                return new SettleResult.Settled(out.get(field).asInt(), rejected);
            } catch (java.io.IOException | IllegalArgumentException e) {
                throw unknownOutcome(ownerUrl, e.toString());
            }
        });
    }

    private static StoreException unknownOutcome(String ownerUrl, String why) {
        // The peer's address and its words go to the log, never to the client (issue 20).
        LOG.warn("the node at {} did not confirm a forwarded settle: {}", ownerUrl, why);
        return new StoreException(StoreException.Code.UNAVAILABLE, "the node holding some of these leases did not "
                + "confirm them; they may or may not be settled: send them again", null);
    }

    private static SettleResult.Settled all(List<String> leases, SettleResult.Reason reason) {
        return new SettleResult.Settled(0, leases.stream().map(l -> new SettleResult.Rejected(l, reason)).toList());
    }

    static String path(Settlement kind) {
        return switch (kind) {
            case ACK -> "acks";
            case NACK -> "nacks";
            case RENEW -> "renewals";
        };
    }
}
