package dev.spool.storage.kafka;

import dev.spool.storage.QueueStats;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a node reads of the Kafka cluster for its stats and its health: brokers alive, each partition's size on
 * disk and each queue topic's replication, each looked at most once a second however many queues or requests ask.
 */
final class ClusterView {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);
    private final Admin admin;
    private final Catalog catalog;
    private final int minInsync;

    ClusterView(Admin admin, Catalog catalog, int minInsync) {
        this.admin = admin;
        this.catalog = catalog;
        this.minInsync = minInsync;
    }

    /** How long one look at the cluster serves {@link #problem()}. */
    private static final long PROBE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private volatile long probedAt = System.nanoTime() - 2 * PROBE_NANOS;
    private volatile String problem;

    /** Whether the Kafka cluster answers and has the brokers pushes need, looked at most once a second. */
    String problem() {
        if (System.nanoTime() - probedAt < PROBE_NANOS) {
            return problem;
        }
        String p;
        try {
            int live = admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).size();
            p = live >= minInsync ? null : "only " + live + " Kafka broker(s) alive; pushes need "
                    + minInsync + " (kafka.min_insync_replicas)";
        } catch (ExecutionException | TimeoutException e) {
            p = "the Kafka cluster does not answer"; // no addresses: /health/ready is open to anyone
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p = "interrupted";
        }
        problem = p;
        probedAt = System.nanoTime();
        return p;
    }

    /** The Kafka brokers alive now, or 0 if the cluster does not answer. */
    int liveBrokers() {
        try {
            return admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size();
        } catch (ExecutionException | TimeoutException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** How long one reading of the brokers' log sizes and the topics' replicas serves the stats of every queue. */
    private static final long VIEW_NANOS = TimeUnit.SECONDS.toNanos(1);
    private final Object viewLock = new Object();
    private volatile long viewAt = System.nanoTime() - 2 * VIEW_NANOS;
    private volatile View view = new View(Map.of(), Map.of());
    /** Log-directory requests sent, for the test that stats of many queues share one. */
    final AtomicLong logSizeRequests = new AtomicLong();

    /**
     * What the stats read from the brokers: each partition's bytes on disk summed over its replicas, and each queue
     * topic's replication as Kafka has it (replicas, min.insync.replicas, replicas in sync).
     */
    record View(Map<TopicPartition, Long> sizes, Map<String, QueueStats.Replication> replication) {
    }

    /**
     * The {@link View}, read again at most once a second with one request of each kind for all queues: a dashboard
     * refresh or a metrics scrape asks for the stats of every queue, and used to ask every broker once per queue.
     */
    View view() {
        if (System.nanoTime() - viewAt < VIEW_NANOS) {
            return view;
        }
        synchronized (viewLock) {
            if (System.nanoTime() - viewAt < VIEW_NANOS) {
                return view;
            }
            Map<TopicPartition, Long> sizes = new HashMap<>();
            Map<String, QueueStats.Replication> replication = new HashMap<>();
            try {
                logSizeRequests.incrementAndGet();
                var dirs = admin.describeLogDirs(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).stream()
                        .map(org.apache.kafka.common.Node::id).toList()).allDescriptions().get(30, TimeUnit.SECONDS);
                for (var perBroker : dirs.values()) {
                    for (var dir : perBroker.values()) {
                        dir.replicaInfos().forEach((tp, info) -> sizes.merge(tp, info.size(), Long::sum));
                    }
                }
                List<String> topics = catalog.entries().stream().filter(e -> e.op() == QueueEntry.Op.READY)
                        .map(QueueEntry::topic).toList();
                if (!topics.isEmpty()) {
                    var described = admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS);
                    List<ConfigResource> rs = topics.stream()
                            .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
                    var configs = admin.describeConfigs(rs).all().get(30, TimeUnit.SECONDS);
                    described.forEach((t, d) -> {
                        var p = d.partitions().get(0);
                        ConfigEntry isr = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, t))
                                .get("min.insync.replicas");
                        replication.put(t, new QueueStats.Replication(p.replicas().size(),
                                isr == null ? 1 : Integer.parseInt(isr.value()), p.isr().size()));
                    });
                }
            } catch (ExecutionException | TimeoutException | RuntimeException ex) {
                LOG.debug("log dirs and topics: {}", ex.toString());
                viewAt = System.nanoTime(); // the last reading (or none) for a second, not a wait per queue
                return view;
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return view;
            }
            view = new View(Map.copyOf(sizes), Map.copyOf(replication));
            viewAt = System.nanoTime();
            return view;
        }
    }
}
