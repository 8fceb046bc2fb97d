package dev.spool.storage.kafka;

import dev.spool.storage.StoreException;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * One compacted one-partition topic, read from its start by a thread of this node that hands each record to
 * {@code apply} in log order; writes wait until this node has read them back, so a node always sees its own
 * writes, and {@link #sync()} waits until it has read everything written before the call.
 */
final class TopicTail implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicTail.class);
    private static final long WAIT_MS = 30_000;

    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition tp;
    private final BiConsumer<String, byte[]> apply;
    private final LongSupplier endOffset;
    private final Object progress = new Object();
    private long position; // next offset to read; guarded by progress
    private volatile boolean closed;
    private volatile Throwable failure; // the last read failed; cleared by the next that succeeds
    private final Thread reader;
    /** One sync in flight at a time: later callers that arrived while it ran start the next one. */
    private final Object syncLock = new Object();
    private final Map<String, Object> scanProps;
    /** Reads the log for {@link #scan}, made at the first; guarded by this. */
    private KafkaConsumer<byte[], byte[]> scanner;

    /**
     * @param apply     called on the reader thread with each record's key and value (null: a tombstone)
     * @param endOffset the topic's end offset, read from the cluster (for {@link #sync()})
     */
    TopicTail(String topic, Map<String, Object> clientProps, KafkaProducer<byte[], byte[]> producer,
              BiConsumer<String, byte[]> apply, LongSupplier endOffset) {
        this.topic = topic;
        this.producer = producer;
        this.apply = apply;
        this.endOffset = endOffset;
        this.tp = new TopicPartition(topic, 0);
        Map<String, Object> c = new HashMap<>(clientProps);
        c.put("key.deserializer", ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        c.put("isolation.level", "read_committed");
        c.put("client.id", String.valueOf(clientProps.get("client.id")) + "-" + topic);
        this.consumer = new KafkaConsumer<>(c);
        this.scanProps = new HashMap<>(c);
        scanProps.put("client.id", c.get("client.id") + "-scan");
        consumer.assign(List.of(tp));
        consumer.seekToBeginning(List.of(tp));
        reader = new Thread(this::run, "spool-tail-" + topic);
        reader.setDaemon(true);
        reader.start();
    }

    /** Reads until closed; a failure (Kafka unreachable for a while) is reported to waiters and retried. */
    private void run() {
        while (!closed) {
            try {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        apply.accept(new String(r.key(), StandardCharsets.UTF_8), r.value());
                    } catch (RuntimeException e) {
                        LOG.error("{}: skipping record {} that cannot be read: {}", topic, r.offset(), e.toString());
                    }
                }
                long pos = consumer.position(tp);
                synchronized (progress) {
                    position = pos;
                    failure = null;
                    progress.notifyAll();
                }
            } catch (WakeupException e) {
                return; // closing
            } catch (RuntimeException e) {
                if (failure == null) {
                    LOG.error("{} cannot be read, retrying every second: {}", topic, e.toString());
                }
                synchronized (progress) {
                    failure = e;
                    progress.notifyAll();
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Appends a record (a null value writes a tombstone) and waits until this node has read past it. */
    void append(String key, byte[] value) {
        long offset;
        try {
            offset = producer.send(new ProducerRecord<>(topic, 0, key.getBytes(StandardCharsets.UTF_8), value))
                    .get(WAIT_MS, TimeUnit.MILLISECONDS).offset();
        } catch (ExecutionException | TimeoutException ex) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, "cannot write " + topic + ": " + ex, ex);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted writing " + topic, ex);
        }
        awaitPast(offset);
    }

    /** Appends a record without waiting to read it back: done once the cluster holds it. */
    java.util.concurrent.CompletableFuture<Void> appendAsync(String key, byte[] value) {
        java.util.concurrent.CompletableFuture<Void> f = new java.util.concurrent.CompletableFuture<>();
        producer.send(new ProducerRecord<>(topic, 0, key.getBytes(StandardCharsets.UTF_8), value), (md, ex) -> {
            if (ex == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(new StoreException(StoreException.Code.UNAVAILABLE, "cannot write " + topic
                        + ": " + ex, ex));
            }
        });
        return f;
    }

    /**
     * Waits until this node has read every record written to the topic before the call. Callers that queue up
     * behind a sync share the next one: a sync that began after a caller arrived covers that caller too.
     */
    void sync() {
        long arrived = System.nanoTime();
        synchronized (syncLock) {
            if (lastSyncStart - arrived > 0 && lastSyncOk) {
                return;
            }
            lastSyncStart = System.nanoTime();
            lastSyncOk = false;
            long end = endOffset.getAsLong();
            if (end > 0) {
                awaitPast(end - 1);
            }
            lastSyncOk = true;
        }
    }

    private long lastSyncStart = System.nanoTime() - 1;
    private boolean lastSyncOk;

    /** Waits until the topic has been read up to and including {@code offset}. */
    private void awaitPast(long offset) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        synchronized (progress) {
            while (position <= offset) {
                if (failure != null) {
                    throw new StoreException(StoreException.Code.UNAVAILABLE, topic + " cannot be read: " + failure, failure);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    throw new StoreException(StoreException.Code.UNAVAILABLE, topic + " was not read in time", null);
                }
                try {
                    progress.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new StoreException(StoreException.Code.UNAVAILABLE, "interrupted reading " + topic, ex);
                }
            }
        }
    }

    /**
     * The last value written for {@code key} in the records from time {@code fromMs} up to what this node has read
     * (null: none, or a tombstone): a look-up in the log itself, for a key this node no longer holds in memory.
     * One at a time; it reads every record in that span.
     */
    synchronized byte[] scan(String key, long fromMs) {
        long until;
        synchronized (progress) {
            until = position;
        }
        if (closed) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, topic + " is closed", null);
        }
        try {
            if (scanner == null) {
                scanner = new KafkaConsumer<>(scanProps);
                scanner.assign(List.of(tp));
            }
            org.apache.kafka.clients.consumer.OffsetAndTimestamp start =
                    scanner.offsetsForTimes(Map.of(tp, fromMs), Duration.ofMillis(WAIT_MS)).get(tp);
            if (start == null || start.offset() >= until) {
                return null;
            }
            scanner.seek(tp, start.offset());
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            byte[] found = null;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
            while (scanner.position(tp) < until) {
                for (ConsumerRecord<byte[], byte[]> r : scanner.poll(Duration.ofMillis(200))) {
                    if (r.offset() < until && java.util.Arrays.equals(r.key(), k)) {
                        found = r.value();
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new StoreException(StoreException.Code.UNAVAILABLE, topic + " was not read in time", null);
                }
            }
            return found;
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new StoreException(StoreException.Code.UNAVAILABLE, topic + " cannot be read: " + e, e);
        }
    }

    TopicPartition partition() {
        return tp;
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(2)));
        synchronized (this) {
            if (scanner != null) {
                scanner.close(CloseOptions.timeout(Duration.ofSeconds(2)));
                scanner = null;
            }
        }
    }
}
