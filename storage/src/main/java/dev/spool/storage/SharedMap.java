package dev.spool.storage;

import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A small string-keyed map that every node of a cluster sees alike, for state that is not queue data: users,
 * sessions, the nodes themselves. Writes are ordered by the backing log, and the last write of a key wins.
 * Reads are local and may lag another node's write by the time that write takes to arrive; {@link #sync()}
 * closes that gap when a miss matters. Thread-safe.
 */
public interface SharedMap {

    /** The value of a key as this node has read it, or null. */
    byte[] get(String key);

    /** Every key and value as this node has read them. */
    Map<String, byte[]> snapshot();

    /** Writes a value; returns once the write is durable and this node reads it back. */
    void put(String key, byte[] value);

    /** Removes a key; returns once the removal is durable and this node reads it back. */
    void remove(String key);

    /** Returns once this node has read every write any node made before the call. */
    void sync();

    /** Calls {@code change} for each key written from now on, by any node (a null value: removed). */
    void subscribe(BiConsumer<String, byte[]> change);
}
