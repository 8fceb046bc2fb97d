package dev.spool.storage.kafka;

import dev.spool.storage.StoreException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The Kafka brokers' settings a node relies on, checked when it starts. */
final class KafkaPreflight {
    private KafkaPreflight() {
    }

    /**
     * Checks the brokers' settings Spool relies on and stops the start with one line naming every one to change:
     * the delivery-count range holding {@code kafka.max_delivery_limit} and 2, the record-lock range holding
     * {@code kafka.lock_duration_ms}, a heartbeat floor at or under the 500 ms Spool's groups use, the share-group
     * DLQ prefix its dead-letter topics carry ({@code dlq.}), and no automatic topic creation (a push to a deleted
     * queue would make it again). Read from one broker: a cluster's brokers are set up alike.
     */
    static void check(Admin admin, KafkaSettings settings) {
        Map<String, String> c = new HashMap<>();
        try {
            String id = Integer.toString(admin.describeCluster().nodes().get(60, TimeUnit.SECONDS).iterator().next().id());
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, id);
            admin.describeConfigs(List.of(broker)).all().get(60, TimeUnit.SECONDS).get(broker).entries()
                    .forEach(e -> c.put(e.name(), e.value()));
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            admin.close(Duration.ofSeconds(1));
            throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot read the Kafka brokers' settings: "
                    + (e.getCause() == null ? e : e.getCause()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            admin.close(Duration.ofSeconds(1));
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted", e);
        }
        List<String> fix = new ArrayList<>();
        long lock = settings.lockDuration().toMillis();
        need(fix, c, "group.share.max.delivery.count.limit", v -> v >= settings.maxDeliveryLimit(),
                Integer.toString(settings.maxDeliveryLimit()), "kafka.max_delivery_limit is " + settings.maxDeliveryLimit());
        need(fix, c, "group.share.min.delivery.count.limit", v -> v <= 2, "2", "queues may take max_deliveries 2");
        need(fix, c, "group.share.min.record.lock.duration.ms", v -> v <= lock, Long.toString(lock),
                "kafka.lock_duration_ms is " + lock);
        need(fix, c, "group.share.max.record.lock.duration.ms", v -> v >= lock, Long.toString(lock),
                "kafka.lock_duration_ms is " + lock);
        need(fix, c, "group.share.min.heartbeat.interval.ms", v -> v <= 500, "500", "Spool's groups beat every 500 ms");
        String prefix = c.get("errors.deadletterqueue.topic.name.prefix");
        if (prefix != null && !"dlq.spool.q.".startsWith(prefix)) {
            fix.add("errors.deadletterqueue.topic.name.prefix=dlq. (is " + prefix + "; dead-letter topics are dlq.spool.q.*)");
        }
        if ("true".equals(c.get("auto.create.topics.enable"))) {
            fix.add("auto.create.topics.enable=false (is true; a push to a deleted queue would create its topic again)");
        }
        if (!fix.isEmpty()) {
            admin.close(Duration.ofSeconds(1));
            throw new StoreException(StoreException.Code.UNAVAILABLE, "the Kafka brokers at "
                    + settings.bootstrapServers() + " are not set up for Spool; on every broker set "
                    + String.join(", ", fix), null);
        }
    }

    private static void need(List<String> fix, Map<String, String> c, String key,
                             java.util.function.LongPredicate ok, String set, String why) {
        String v = c.get(key);
        if (v != null && !ok.test(Long.parseLong(v))) {
            fix.add(key + "=" + set + " (is " + v + "; " + why + ")");
        }
    }
}
