package dev.spool.storage.kafka;

import org.apache.kafka.clients.producer.KafkaProducer;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The queues of the cluster, read by every node from the one-partition topic {@code spool.__queues}, kept whole and
 * forever (not compacted: see {@code KafkaQueueStore.ensureCatalogTopic}).
 *
 * <p>Names are decided by the log's order, so no node coordinates with another: a node that wants a name
 * appends a CLAIM and reads the log up to it; the first CLAIM of a name since its last DELETE wins. The
 * winner creates the topics and appends READY. Only READY queues exist for the API.
 */
final class Catalog implements AutoCloseable {
    static final String TOPIC = "spool.__queues";

    /** The live entry per name (CLAIM or READY). */
    private final Map<String, QueueEntry> byName = new ConcurrentHashMap<>();
    private final Map<String, QueueEntry> byTopic = new ConcurrentHashMap<>();
    /** Creations deleted, by uuid: their share groups and topics are removed once no node uses them. */
    private final Map<String, QueueEntry> deleted = new ConcurrentHashMap<>();
    private final TopicTail tail;

    Catalog(Map<String, Object> clientProps, KafkaProducer<byte[], byte[]> producer, LongSupplier endOffset) {
        this.tail = new TopicTail(TOPIC, clientProps, producer, this::apply, endOffset);
    }

    private void apply(String name, byte[] value) {
        if (value == null) {
            return; // compaction tombstone after a DELETE: the DELETE itself removed the entry
        }
        QueueEntry e = QueueEntry.decode(name, value);
        QueueEntry live = byName.get(name);
        switch (e.op()) {
            case CLAIM -> {
                if (live == null) {
                    byName.put(name, e);
                }
            }
            case READY -> {
                // A READY with no live entry is a queue whose CLAIM a compacted catalog (before Spool 2.0) removed:
                // it carries the whole entry, so it stands on its own.
                if (live == null || live.uuid().equals(e.uuid())) {
                    byName.put(name, e);
                    byTopic.put(e.topic(), e);
                }
            }
            case DELETE -> {
                if (live != null && live.uuid().equals(e.uuid())) {
                    byName.remove(name);
                    byTopic.remove(live.topic());
                }
                deleted.put(e.uuid(), e);
            }
        }
    }

    /** Appends an entry and waits until this node has read the log past it. */
    void append(QueueEntry e) {
        tail.append(e.name(), e.encode());
    }

    /** Waits until this node has read everything written to the catalog before now. */
    void sync() {
        tail.sync();
    }

    /** The live entry of a name (CLAIM or READY), or null. */
    QueueEntry live(String name) {
        return byName.get(name);
    }

    /** The READY entry of a name, or null. */
    QueueEntry ready(String name) {
        QueueEntry e = byName.get(name);
        return e != null && e.op() == QueueEntry.Op.READY ? e : null;
    }

    /** The READY queue whose topic this is, or null. */
    QueueEntry byTopic(String topic) {
        return byTopic.get(topic);
    }

    Collection<QueueEntry> entries() {
        return byName.values();
    }

    /** Every creation deleted since the catalog began (its DELETE records), by any node. */
    Collection<QueueEntry> deleted() {
        return deleted.values();
    }

    @Override
    public void close() {
        tail.close();
    }
}
