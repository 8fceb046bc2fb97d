package dev.spool.storage.kafka;

import dev.spool.storage.SharedMap;
import org.apache.kafka.clients.producer.KafkaProducer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.BiPredicate;
import java.util.function.LongSupplier;

/** A {@link SharedMap} kept in a compacted topic that every node reads from its start. */
final class KafkaSharedMap implements SharedMap, AutoCloseable {
    private final Map<String, byte[]> values = new ConcurrentHashMap<>();
    private final List<BiConsumer<String, byte[]>> listeners = new CopyOnWriteArrayList<>();
    private final TopicTail tail;

    KafkaSharedMap(String topic, Map<String, Object> clientProps, KafkaProducer<byte[], byte[]> producer,
                   LongSupplier endOffset) {
        this.tail = new TopicTail(topic, clientProps, producer, this::apply, endOffset);
    }

    private void apply(String key, byte[] value) {
        if (value == null) {
            values.remove(key);
        } else {
            values.put(key, value);
        }
        for (BiConsumer<String, byte[]> l : listeners) {
            l.accept(key, value);
        }
    }

    @Override
    public byte[] get(String key) {
        return values.get(key);
    }

    @Override
    public Map<String, byte[]> snapshot() {
        return new HashMap<>(values);
    }

    @Override
    public void put(String key, byte[] value) {
        tail.append(key, value.clone());
    }

    /**
     * Writes a value without waiting to read it back: done once the cluster holds it, and from then on in this
     * node's copy too (unless the topic already gave this node a value for the key).
     */
    CompletableFuture<Void> putAsync(String key, byte[] value) {
        byte[] copy = value.clone();
        return tail.appendAsync(key, copy).thenRun(() -> values.putIfAbsent(key, copy));
    }

    /** Drops keys from this node's copy only (the log keeps them until its retention removes them). */
    void forgetLocally(BiPredicate<String, byte[]> which) {
        values.entrySet().removeIf(e -> which.test(e.getKey(), e.getValue()));
    }

    @Override
    public void remove(String key) {
        tail.append(key, null);
    }

    @Override
    public void sync() {
        tail.sync();
    }

    @Override
    public void subscribe(BiConsumer<String, byte[]> change) {
        listeners.add(change);
    }

    @Override
    public void close() {
        tail.close();
    }
}
