package dev.spool.storage.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What a node deletes from Kafka that nobody needs any more: the records every queue's share group is past, and the
 * share groups and topics of deleted queues. Run on the node's housekeeping thread.
 */
final class Sweeper {
    private static final Logger LOG = LoggerFactory.getLogger(Sweeper.class);
    private final Admin admin;
    private final Catalog catalog;

    Sweeper(Admin admin, Catalog catalog) {
        this.admin = admin;
        this.catalog = catalog;
    }

    /** How often a node deletes the records every queue's share group is past. */
    static final long TRIM_EVERY_S = 10;

    /**
     * Deletes, for every queue and dead-letter topic, the records below its share group's start offset (every one of
     * them acknowledged, taken or archived): Kafka keeps a topic's records forever otherwise ({@code retention.ms}
     * -1, so that nothing unconsumed is lost), and the disk grew with every message ever pushed. Kafka 4.4 moves the
     * start offset it reports past acknowledged records when the group fetches again, so a queue drained and then
     * left idle keeps its last consumed records until its next delivery. Whole segments
     * below the new log start go from the disk at the brokers' next retention check. One request of each kind for
     * all queues; idempotent, so that several nodes doing it at once is harmless.
     */
    void trimConsumed() {
        try {
            Map<String, QueueEntry> byGroup = new HashMap<>();
            for (QueueEntry e : catalog.entries()) {
                if (e.op() == QueueEntry.Op.READY) {
                    byGroup.put(e.group(), e);
                }
            }
            if (byGroup.isEmpty()) {
                return;
            }
            Map<String, ListShareGroupOffsetsSpec> specs = new HashMap<>();
            byGroup.forEach((g, e) -> specs.put(g, new ListShareGroupOffsetsSpec()
                    .topicPartitions(List.of(new TopicPartition(e.topic(), 0)))));
            var result = admin.listShareGroupOffsets(specs);
            Map<TopicPartition, Long> start = new HashMap<>();
            for (Map.Entry<String, QueueEntry> g : byGroup.entrySet()) {
                TopicPartition tp = new TopicPartition(g.getValue().topic(), 0);
                try {
                    SharePartitionOffsetInfo info = result.partitionsToOffsetInfo(g.getKey()).get(30, TimeUnit.SECONDS)
                            .get(tp);
                    if (info != null && info.startOffset() > 0) {
                        start.put(tp, info.startOffset());
                    }
                } catch (ExecutionException ex) {
                    LOG.debug("share group {} offsets: {}", g.getKey(), ex.toString()); // no group yet
                }
            }
            if (start.isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            start.keySet().forEach(tp -> earliest.put(tp, OffsetSpec.earliest()));
            var logStart = admin.listOffsets(earliest).all().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, org.apache.kafka.clients.admin.RecordsToDelete> delete = new HashMap<>();
            start.forEach((tp, s) -> {
                var ls = logStart.get(tp);
                if (ls != null && ls.offset() < s) {
                    delete.put(tp, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(s));
                }
            });
            if (!delete.isEmpty()) {
                admin.deleteRecords(delete).all().get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException | RuntimeException ex) {
            LOG.debug("trimming consumed records: {}", ex.toString());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** How often a node looks for share groups and topics of deleted queues that are still there. */
    static final long LEFTOVERS_EVERY_S = 5;
    /** Deleted creations whose group and topics this node has seen gone (so it stops looking for them). */
    private final java.util.Set<String> goneForGood = ConcurrentHashMap.newKeySet();

    /**
     * Deletes the share groups and topics of deleted queues that are still there. A delete removes them at once,
     * but Kafka refuses to delete a share group another node's consumers still belong to (they leave within
     * {@code closeDeletedPumps}' 10 s), and a node may die between the catalog's DELETE and the removals; without
     * this the group (and its state in Kafka's share-group state topic) stayed forever. Only creations the catalog
     * records as deleted are touched, never a group of a live queue.
     */
    void removeLeftovers() {
        try {
            List<QueueEntry> pending = catalog.deleted().stream().filter(e -> !goneForGood.contains(e.uuid())).toList();
            if (pending.isEmpty()) {
                return;
            }
            java.util.Set<String> groups = new java.util.HashSet<>();
            admin.listGroups(org.apache.kafka.clients.admin.ListGroupsOptions.forShareGroups()).all()
                    .get(30, TimeUnit.SECONDS).forEach(g -> groups.add(g.groupId()));
            java.util.Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            for (QueueEntry e : pending) {
                boolean left = false;
                if (groups.contains(e.group())) {
                    left = !quietly(admin.deleteShareGroups(List.of(e.group())).all(), "share group " + e.group());
                    if (!left) {
                        LOG.info("share group {} of a deleted queue '{}' removed", e.group(), e.name());
                    }
                }
                if (topics.contains(e.topic())) {
                    left |= !quietly(admin.deleteTopics(List.of(e.topic())).all(), "topic " + e.topic());
                }
                if (!left) {
                    goneForGood.add(e.uuid());
                }
            }
        } catch (ExecutionException | TimeoutException | RuntimeException ex) {
            LOG.debug("looking for leftovers of deleted queues: {}", ex.toString());
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for an admin call; false (logged at debug) if it failed, as a group still in use does. */
    private static boolean quietly(org.apache.kafka.common.KafkaFuture<Void> f, String what)
            throws InterruptedException {
        try {
            f.get(30, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException | TimeoutException ex) {
            LOG.debug("{} of a deleted queue not removed yet: {}", what, ex.toString());
            return false;
        }
    }
}
