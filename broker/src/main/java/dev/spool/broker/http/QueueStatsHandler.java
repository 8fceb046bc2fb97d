package dev.spool.broker.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.spool.storage.QueueStats;
import dev.spool.storage.StoreContract;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;

/** {@code GET /queues/{name}}: the queue's statistics. Runs on a worker (measuring disk use walks files). */
final class QueueStatsHandler implements HttpHandler {
    private final Api api;

    QueueStatsHandler(Api api) {
        this.api = api;
    }

    @Override
    public void handleRequest(HttpServerExchange ex) {
        String name = Exchanges.queueName(ex);
        if (!(api.store().stats(name) instanceof QueueStats s)) {
            throw ApiException.queueNotFound(name);
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("name", s.name());
        out.put("depth", s.depth());
        out.put("max_length", s.maxLength());
        out.put("type", s.type());
        out.put("created_at", s.createdAt().toString());
        out.put("total_pushed", s.totalPushed());
        out.put("total_pulled", s.totalPulled());
        out.put("bytes_on_disk", s.bytesOnDisk());
        out.put("in_flight", s.inFlight());
        out.put("damaged_copies", s.damagedCopies());
        out.put("writable", s.failure() == null);
        out.put("failure", s.failure());
        out.put("waiting_requests", api.waiters().waiting(name));
        if (api.store().options(name) instanceof dev.spool.storage.QueueOptions o) {
            // What bounds its named subscriptions: its own, else the configuration's (0: none).
            ObjectNode r = out.putObject("retention");
            r.put("max_age_seconds", o.retentionMaxAgeSeconds() > 0 ? o.retentionMaxAgeSeconds()
                    : api.config().storage().retentionMaxAgeSeconds());
            r.put("max_bytes", o.retentionMaxBytes() > 0 ? o.retentionMaxBytes()
                    : api.config().storage().retentionMaxBytes());
        }
        if (s.replication() != null) {
            ObjectNode r = out.putObject("replication");
            r.put("factor", s.replication().factor());
            r.put("min_insync_replicas", s.replication().minInsync());
            r.put("in_sync", s.replication().inSync());
        }
        StoreContract c = api.store().contract();
        out.put("backend", c.backend());
        ObjectNode g = out.putObject("guarantees");
        g.put("exact_max_length", c.exactMaxLength());
        g.put("exact_fifo", c.exactFifo());
        g.put("consecutive_ids", c.consecutiveIds());
        g.put("exact_delivery_count", c.exactDeliveryCount());
        g.put("max_visibility_seconds", Math.min(c.maxVisibility().toSeconds(),
                api.config().queues().maxVisibilitySeconds()));
        g.put("delayed_nack", c.delayedNack());
        g.put("renew", c.renew());
        g.put("idempotency_scope", c.idempotencyScope());
        Json.send(ex, 200, out);
    }
}
