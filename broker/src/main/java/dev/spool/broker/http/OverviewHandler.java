package dev.spool.broker.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.broker.audit.AuditLog;
import dev.spool.broker.metrics.Metrics;
import dev.spool.storage.QueueCounts;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStats;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code GET /overview}: one JSON document with everything the dashboard shows, for any signed-in user. Counters
 * are totals; a client turns two readings into rates. Runs on a worker (queue sizes walk files).
 */
final class OverviewHandler implements HttpHandler {
    private final Api api;
    private final Health health;
    private final AuditLog audit;
    private final Metrics metrics;

    /**
     * @param audit   the audit log, or null when it is off
     * @param metrics the metrics registry, or null when metrics are off (then no fsync figures)
     */
    OverviewHandler(Api api, Health health, AuditLog audit, Metrics metrics) {
        this.api = api;
        this.health = health;
        this.audit = audit;
        this.metrics = metrics;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("time", api.clock().instant().toString());
        out.put("uptime_seconds", ManagementFactory.getRuntimeMXBean().getUptime() / 1000);
        out.put("disk_free_bytes", health.freeBytes());
        ObjectNode a = out.putObject("audit");
        a.put("enabled", audit != null);
        a.put("written", audit == null ? 0 : audit.written());
        a.put("dropped", audit == null ? 0 : audit.dropped());
        if (metrics == null) {
            out.putNull("fsync");
        } else {
            out.putObject("fsync").put("count", metrics.syncCount()).put("seconds", metrics.syncNanos() / 1e9);
        }
        Map<String, QueueStats> stats = new HashMap<>();
        for (String name : api.store().list()) {
            if (api.store().stats(name) instanceof QueueStats s) {
                stats.put(name, s);
            }
        }
        ArrayNode queues = out.putArray("queues");
        stats.keySet().stream().sorted().forEach(name -> {
            QueueStats s = stats.get(name);
            QueueCounts c = s.counts();
            QueueStats dlq = null;
            if (api.store().options(name) instanceof QueueOptions o) {
                dlq = stats.get(o.deadLetterQueueFor(name));
            }
            queues.addObject()
                    .put("name", name)
                    .put("type", s.type())
                    .put("depth", s.depth())
                    .put("max_length", s.maxLength())
                    .put("in_flight", s.inFlight())
                    .put("waiting_requests", api.waiters().waiting(name))
                    .put("dead_letters", dlq == null ? 0 : dlq.depth())
                    .put("bytes_on_disk", s.bytesOnDisk())
                    .put("pushed", s.totalPushed())
                    .put("consumed", s.totalPulled())
                    .put("pulled", c.taken())
                    .put("delivered", c.delivered())
                    .put("acked", c.acked());
        });
        ArrayNode subs = out.putArray("subscriptions");
        for (String name : stats.keySet().stream().sorted().toList()) {
            dev.spool.storage.SubscriptionResult r;
            try {
                r = api.store().subscription(name, null);
            } catch (UnsupportedOperationException e) {
                break; // a backend without subscriptions
            }
            if (r instanceof dev.spool.storage.SubscriptionResult.Listed l) {
                for (dev.spool.storage.SubscriptionStats s : l.subscriptions()) {
                    subs.addObject()
                            .put("queue", s.queue())
                            .put("name", s.name())
                            .put("backlog", s.backlog())
                            .put("in_flight", s.inFlight())
                            .put("oldest_age_seconds", s.oldestAgeMillis() / 1000.0)
                            .put("paused", s.paused())
                            .put("skipped", s.skipped())
                            .put("delivered", s.counts().taken() + s.counts().delivered())
                            .put("acked", s.counts().acked());
                }
            }
        }
        Json.send(ex, 200, out);
    }
}
