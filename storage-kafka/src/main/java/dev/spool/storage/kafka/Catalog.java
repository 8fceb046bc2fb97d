package dev.spool.storage.kafka;

import dev.spool.storage.StoreException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The queues of the cluster, read by every node from the compacted one-partition topic {@code spool.__queues}.
 *
 * <p>Names are decided by the log's order, so no node coordinates with another: a node that wants a name
 * appends a CLAIM and reads the log up to it; the first CLAIM of a name since its last DELETE wins. The
 * winner creates the topics and appends READY. Only READY queues exist for the API.
 */
final class Catalog implements AutoCloseable {
    static final String TOPIC = "spool.__queues";
    private static final Logger LOG = LoggerFactory.getLogger(Catalog.class);

    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> tail;
    private final TopicPartition tp = new TopicPartition(TOPIC, 0);
    /** The live entry per name (CLAIM or READY). */
    private final Map<String, QueueEntry> byName = new ConcurrentHashMap<>();
    private final Map<String, QueueEntry> byTopic = new ConcurrentHashMap<>();
    private final Object progress = new Object();
    private long position; // next offset to read; guarded by progress
    private volatile boolean closed;
    private final Thread reader;
    private volatile Throwable failure;

    Catalog(Map<String, Object> clientProps, KafkaProducer<byte[], byte[]> producer) {
        this.producer = producer;
        Map<String, Object> c = new java.util.HashMap<>(clientProps);
        c.put("key.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        c.put("isolation.level", "read_committed");
        this.tail = new KafkaConsumer<>(c);
        tail.assign(List.of(tp));
        tail.seekToBeginning(List.of(tp));
        reader = new Thread(this::run, "spool-catalog");
        reader.setDaemon(true);
        reader.start();
    }

    private void run() {
        try {
            while (!closed) {
                var records = tail.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    apply(r);
                }
                long pos = tail.position(tp);
                synchronized (progress) {
                    position = pos;
                    progress.notifyAll();
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            failure = e;
            LOG.error("the queue catalog cannot be read from {}: {}", TOPIC, e.toString());
            synchronized (progress) {
                progress.notifyAll();
            }
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> r) {
        String name = new String(r.key(), StandardCharsets.UTF_8);
        if (r.value() == null) {
            return; // compaction tombstone after a DELETE: the DELETE itself removed the entry
        }
        QueueEntry e = QueueEntry.decode(name, r.value());
        QueueEntry live = byName.get(name);
        switch (e.op()) {
            case CLAIM -> {
                if (live == null) {
                    byName.put(name, e);
                }
            }
            case READY -> {
                if (live != null && live.uuid().equals(e.uuid())) {
                    byName.put(name, e);
                    byTopic.put(e.topic(), e);
                }
            }
            case DELETE -> {
                if (live != null && live.uuid().equals(e.uuid())) {
                    byName.remove(name);
                    byTopic.remove(live.topic());
                }
            }
        }
    }

    /** Appends an entry and waits until this node has read the log past it. */
    void append(QueueEntry e) {
        long offset;
        try {
            offset = producer.send(new ProducerRecord<>(TOPIC, 0, e.name().getBytes(StandardCharsets.UTF_8), e.encode()))
                    .get(30, TimeUnit.SECONDS).offset();
        } catch (ExecutionException | TimeoutException ex) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot write the queue catalog: " + ex, ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted writing the queue catalog", ex);
        }
        awaitPast(offset);
    }

    /** Waits until the catalog has been read up to and including {@code offset}. */
    void awaitPast(long offset) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        synchronized (progress) {
            while (position <= offset) {
                if (failure != null) {
                    throw new StoreException(StoreException.Code.UNAVAILABLE, "the queue catalog cannot be read: " + failure, failure);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    throw new StoreException(StoreException.Code.UNAVAILABLE, "the queue catalog was not read in time", null);
                }
                try {
                    progress.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted reading the queue catalog", ex);
                }
            }
        }
    }

    /** Waits until this node has read everything written to the catalog before now. */
    void catchUp(long endOffset) {
        if (endOffset > 0) {
            awaitPast(endOffset - 1);
        }
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

    TopicPartition partition() {
        return tp;
    }

    @Override
    public void close() {
        closed = true;
        tail.wakeup();
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tail.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(2)));
    }
}
