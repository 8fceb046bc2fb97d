package dev.spool.broker.metrics;

import dev.spool.storage.QueueCounts;
import dev.spool.storage.QueueStats;
import dev.spool.storage.QueueStore;
import dev.spool.storage.StoreObserver;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/**
 * The broker's metrics registry. Counting on the request path is left to {@link HttpMetrics} (one add per
 * request); everything else is read when Prometheus scrapes: queue figures from the store's stats, audit and
 * connection counts from their owners, JVM figures from the JVM. Only the store's syncs and checkpoints are
 * observed as they happen, on the store's own threads.
 */
public final class Metrics implements StoreObserver {
    private static final double[] SYNC_BUCKETS = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
            0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
    private static final double[] BATCH_BUCKETS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
    private static final double[] CHECKPOINT_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
            2.5, 5, 10};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final HttpMetrics http = new HttpMetrics(registry);
    private final DistributionDataPoint fsync;
    private final DistributionDataPoint groupCommit;
    private final DistributionDataPoint checkpoint;
    private QueueStore store;
    /** The queues' stats read once for the scrape in progress (each read walks a queue's folder). Guarded by this. */
    private List<QueueStats> scraped;
    private List<dev.spool.storage.SubscriptionStats> scrapedSubscriptions;
    private final java.util.concurrent.atomic.LongAdder syncs = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder syncNanos = new java.util.concurrent.atomic.LongAdder();

    public Metrics() {
        fsync = Histogram.builder().name("spool_fsync_duration_seconds")
                .help("Time one group commit of one queue took to force its files to disk")
                .classicOnly().classicUpperBounds(SYNC_BUCKETS).withoutExemplars().register(registry);
        groupCommit = Histogram.builder().name("spool_group_commit_messages")
                .help("Messages pushed since a queue's previous sync, made durable by one group commit")
                .classicOnly().classicUpperBounds(BATCH_BUCKETS).withoutExemplars().register(registry);
        checkpoint = Histogram.builder().name("spool_checkpoint_duration_seconds")
                .help("Time one checkpoint of cursors, queue metadata and lease snapshots took")
                .classicOnly().classicUpperBounds(CHECKPOINT_BUCKETS).withoutExemplars().register(registry);
        JvmMetrics.builder().register(registry);
    }

    public HttpMetrics http() {
        return http;
    }

    @Override
    public void synced(long nanos, long messages) {
        fsync.observe(nanos / 1e9);
        syncs.increment();
        syncNanos.add(nanos);
        if (messages > 0) {
            groupCommit.observe(messages);
        }
    }

    @Override
    public void checkpointed(long nanos) {
        checkpoint.observe(nanos / 1e9);
    }

    /**
     * Per-queue gauges and counters, read from the store's stats at each scrape (one stats call per queue).
     *
     * @param waiting the requests waiting in long polls on a queue
     */
    public void queues(QueueStore store, ToIntFunction<String> waiting) {
        synchronized (this) {
            this.store = store;
        }
        gaugePerQueue("spool_queue_depth", "Messages in the queue not yet consumed", QueueStats::depth);
        gaugePerQueue("spool_queue_max_length", "The queue's max_length", QueueStats::maxLength);
        gaugePerQueue("spool_queue_leases_in_flight", "Messages leased and not yet acked, nacked or expired",
                QueueStats::inFlight);
        gaugePerQueue("spool_queue_disk_usage_bytes", "Bytes the queue's folder takes on disk",
                QueueStats::bytesOnDisk);
        GaugeWithCallback.builder().name("spool_queue_waiting_requests")
                .help("Long polls waiting for messages on the queue").labelNames("queue")
                .callback(cb -> {
                    for (QueueStats s : queueStats()) {
                        cb.call(waiting.applyAsInt(s.name()), s.name());
                    }
                }).register(registry);
        counterPerQueue("spool_messages_pushed_total", "Messages stored (since the queue was created)",
                s -> s.totalPushed());
        counterPerQueue("spool_messages_consumed_total",
                "Messages gone for good: pulled, acked or dead-lettered (since the queue was created)",
                s -> s.totalPulled());
        counterPerQueue("spool_messages_pulled_total", "Messages pulled destructively",
                s -> s.counts().taken());
        counterPerQueue("spool_messages_delivered_total", "Leases handed out (redeliveries count again)",
                s -> s.counts().delivered());
        counterPerQueue("spool_messages_acked_total", "Leases acknowledged", s -> s.counts().acked());
        counterPerQueue("spool_messages_nacked_total", "Leases released by a nack", s -> s.counts().nacked());
        counterPerQueue("spool_messages_expired_total", "Leases that timed out without an ack",
                s -> s.counts().expired());
        counterPerQueue("spool_messages_dead_lettered_total", "Messages moved to the dead-letter queue",
                s -> s.counts().deadLettered());
        counterPerQueue("spool_messages_redriven_total", "Messages moved back from the dead-letter queue",
                s -> s.counts().redriven());
        counterPerQueue("spool_pushes_duplicate_total",
                "Messages pushed again with a remembered idempotency key and not stored twice",
                s -> s.counts().duplicates());
        gaugePerSubscription("spool_subscription_backlog",
                "Messages after a named subscription's position not yet acknowledged through it", s -> s.backlog());
        gaugePerSubscription("spool_subscription_oldest_age_seconds",
                "Age of the oldest message a named subscription has not consumed (to the second; 0 when none)",
                s -> s.oldestAgeMillis() / 1000.0);
        gaugePerSubscription("spool_subscription_leases_in_flight",
                "Messages leased through a named subscription and not yet acked, nacked or expired", s -> s.inFlight());
        gaugePerSubscription("spool_subscription_paused", "1 while a named subscription is paused",
                s -> s.paused() ? 1 : 0);
        counterPerSubscription("spool_subscription_delivered_total", "Messages delivered through a named "
                + "subscription: pulled, and leases handed out (redeliveries count again)",
                s -> s.counts().taken() + s.counts().delivered());
        counterPerSubscription("spool_subscription_acked_total", "Leases acknowledged through a named subscription",
                s -> s.counts().acked());
        counterPerSubscription("spool_subscription_skipped_total",
                "Messages a named subscription never received because retention dropped them first", s -> s.skipped());
    }

    private void gaugePerSubscription(String name, String help,
                                      ToDoubleFunction<dev.spool.storage.SubscriptionStats> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("queue", "subscription")
                .callback(cb -> {
                    for (dev.spool.storage.SubscriptionStats s : subscriptionStats()) {
                        cb.call(value.applyAsDouble(s), s.queue(), s.name());
                    }
                }).register(registry);
    }

    private void counterPerSubscription(String name, String help,
                                        ToDoubleFunction<dev.spool.storage.SubscriptionStats> value) {
        CounterWithCallback.builder().name(name).help(help).labelNames("queue", "subscription")
                .callback(cb -> {
                    for (dev.spool.storage.SubscriptionStats s : subscriptionStats()) {
                        cb.call(value.applyAsDouble(s), s.queue(), s.name());
                    }
                }).register(registry);
    }

    /** Every named subscription's stats of this scrape, read on first use (none on a backend without them). */
    private synchronized List<dev.spool.storage.SubscriptionStats> subscriptionStats() {
        if (scrapedSubscriptions == null) {
            List<dev.spool.storage.SubscriptionStats> out = new ArrayList<>();
            for (QueueStats q : queueStats()) {
                try {
                    if (store.subscription(q.name(), null) instanceof dev.spool.storage.SubscriptionResult.Listed l) {
                        out.addAll(l.subscriptions());
                    }
                } catch (UnsupportedOperationException e) {
                    break; // a backend without subscriptions
                }
            }
            scrapedSubscriptions = out;
        }
        return scrapedSubscriptions;
    }

    private void gaugePerQueue(String name, String help, ToDoubleFunction<QueueStats> value) {
        GaugeWithCallback.builder().name(name).help(help).labelNames("queue")
                .callback(cb -> {
                    for (QueueStats s : queueStats()) {
                        cb.call(value.applyAsDouble(s), s.name());
                    }
                }).register(registry);
    }

    private void counterPerQueue(String name, String help, ToDoubleFunction<QueueStats> value) {
        CounterWithCallback.builder().name(name).help(help).labelNames("queue")
                .callback(cb -> {
                    for (QueueStats s : queueStats()) {
                        cb.call(value.applyAsDouble(s), s.name());
                    }
                }).register(registry);
    }

    /** The stats of this scrape, read on its first use. Scrapes hold the lock, so callbacks see one snapshot. */
    private synchronized List<QueueStats> queueStats() {
        if (scraped == null) {
            scraped = store == null ? List.of() : stats(store);
        }
        return scraped;
    }

    private static List<QueueStats> stats(QueueStore store) {
        List<QueueStats> out = new ArrayList<>();
        for (String q : store.list()) {
            if (store.stats(q) instanceof QueueStats s) {
                out.add(s);
            }
        }
        return out;
    }

    /** A gauge read at each scrape. */
    public void gauge(String name, String help, DoubleSupplier value) {
        GaugeWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }

    /** A counter read at each scrape. */
    public void counter(String name, String help, DoubleSupplier value) {
        CounterWithCallback.builder().name(name).help(help).callback(cb -> cb.call(value.getAsDouble())).register(registry);
    }

    /** Group-commit syncs so far (the dashboard turns two readings into a mean latency). */
    public long syncCount() {
        return syncs.sum();
    }

    /** Time spent in those syncs, in nanoseconds. */
    public long syncNanos() {
        return syncNanos.sum();
    }

    /** The Prometheus text format's content type. */
    public String contentType() {
        return writer.getContentType();
    }

    /** Writes every metric in the Prometheus text format. */
    public synchronized void scrape(OutputStream out) throws IOException {
        try {
            writer.write(out, registry.scrape());
        } finally {
            scraped = null; // the next scrape reads fresh stats
            scrapedSubscriptions = null;
        }
    }
}
