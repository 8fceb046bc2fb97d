package dev.spool.storage.kafka;

import com.google.common.hash.BloomFilter;
import com.google.common.hash.Funnels;
import dev.spool.storage.SharedMap;
import org.apache.kafka.clients.producer.KafkaProducer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.BiPredicate;
import java.util.function.LongSupplier;

/**
 * A {@link SharedMap} kept in a compacted topic that every node reads from its start. It may hold at most
 * {@code maxEntries} keys in memory: past that the oldest are dropped from memory (not from the topic) into a Bloom
 * filter, and {@link #mayHaveDropped} and {@link #lookUp} find them in the topic again.
 */
final class KafkaSharedMap implements SharedMap, AutoCloseable {
    private final Map<String, byte[]> values = new ConcurrentHashMap<>();
    private final List<BiConsumer<String, byte[]>> listeners = new CopyOnWriteArrayList<>();
    private final TopicTail tail;
    /** The most keys held in memory; 0: no bound. */
    private final int maxEntries;
    /** How long a filter generation takes keys: a dropped key stays in a filter at least this long. */
    private final long generationMs;
    /** Keys in the order they came, for dropping the oldest first (may name keys no longer held). */
    private final ConcurrentLinkedQueue<String> arrivals = new ConcurrentLinkedQueue<>();
    /** The keys dropped from memory, in two generations; written under this map's lock only. */
    private volatile BloomFilter<CharSequence> dropped;
    private volatile BloomFilter<CharSequence> droppedBefore;
    private long generationStart;

    /**
     * At most {@code maxEntries} keys in memory (0: every key); a key dropped stays findable for at least
     * {@code keepMs}.
     */
    KafkaSharedMap(String topic, Map<String, Object> clientProps, KafkaProducer<byte[], byte[]> producer,
                   LongSupplier endOffset, int maxEntries, long keepMs) {
        this.maxEntries = maxEntries;
        this.generationMs = keepMs;
        this.tail = new TopicTail(topic, clientProps, producer, this::apply, endOffset);
    }

    private void apply(String key, byte[] value) {
        if (value == null) {
            values.remove(key);
        } else {
            hold(key, value, false);
        }
        for (BiConsumer<String, byte[]> l : listeners) {
            l.accept(key, value);
        }
    }

    private void hold(String key, byte[] value, boolean ifAbsent) {
        byte[] before = ifAbsent ? values.putIfAbsent(key, value) : values.put(key, value);
        if (before == null && maxEntries > 0) {
            arrivals.add(key);
            if (values.size() > maxEntries) {
                dropOldest();
            }
        }
    }

    /** Drops the oldest keys from memory into the filter until at most {@code maxEntries} are held. */
    private synchronized void dropOldest() {
        while (values.size() > maxEntries) {
            String oldest = arrivals.poll();
            if (oldest == null) {
                return;
            }
            if (values.remove(oldest) != null) {
                filter().put(oldest);
            }
        }
    }

    private BloomFilter<CharSequence> filter() {
        long now = System.currentTimeMillis();
        if (dropped == null || now - generationStart > generationMs) {
            droppedBefore = dropped;
            dropped = BloomFilter.create(Funnels.stringFunnel(StandardCharsets.UTF_8), maxEntries, 0.01);
            generationStart = now;
        }
        return dropped;
    }

    /** Whether {@code key} may be one this node dropped from memory (false positives about 1 %). */
    boolean mayHaveDropped(String key) {
        BloomFilter<CharSequence> a = dropped;
        BloomFilter<CharSequence> b = droppedBefore;
        return a != null && a.mightContain(key) || b != null && b.mightContain(key);
    }

    /** The value of {@code key} written since {@code fromMs}, read from the topic (null: none). */
    byte[] lookUp(String key, long fromMs) {
        return tail.scan(key, fromMs);
    }

    /** The keys held in memory. */
    int size() {
        return values.size();
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
        return tail.appendAsync(key, copy).thenRun(() -> hold(key, copy, true));
    }

    /** Drops keys from this node's copy only (the log keeps them until its retention removes them). */
    void forgetLocally(BiPredicate<String, byte[]> which) {
        values.entrySet().removeIf(e -> which.test(e.getKey(), e.getValue()));
        if (maxEntries > 0) {
            arrivals.removeIf(k -> !values.containsKey(k));
        }
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
