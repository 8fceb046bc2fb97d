package dev.spool.storage.journal;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Idempotency keys seen recently and the ids they were stored under, oldest first. A key is forgotten
 * when it is older than the window or when more than {@code maxKeys} are held (the oldest go first).
 * Pure in-memory state driven by the times it is given; the owner persists keys in its state log.
 *
 * <p>Not thread-safe: the owning queue calls it under its push lock.
 */
final class IdempotencyWindow {
    /** What a key names: the id it was stored under and when (ms). */
    record Seen(long id, long time) {
    }

    private final long windowMillis;
    private final int maxKeys;
    private final LinkedHashMap<String, Seen> keys = new LinkedHashMap<>();

    IdempotencyWindow(long windowMillis, int maxKeys) {
        if (windowMillis <= 0) {
            throw new IllegalArgumentException("windowMillis must be > 0, was " + windowMillis);
        }
        if (maxKeys <= 0) {
            throw new IllegalArgumentException("maxKeys must be > 0, was " + maxKeys);
        }
        this.windowMillis = windowMillis;
        this.maxKeys = maxKeys;
    }

    /** The id stored under {@code key} within the window at {@code now}, or -1. */
    long idOf(String key, long now) {
        Seen s = keys.get(key);
        return s == null || s.time() <= now - windowMillis ? -1 : s.id();
    }

    /** Remembers a key (replacing nothing: the first id a key named stays). */
    void remember(String key, long id, long time) {
        Seen s = keys.get(key);
        if (s != null && s.time() > time - windowMillis) {
            return; // within its window the first use stands
        }
        // A key used again after its window names the new message, at the young end of the window.
        keys.remove(key);
        keys.put(key, new Seen(id, time));
    }

    /** Forgets a key if it names an id from {@code fromId} on: its message was not stored after all (its batch failed). */
    void forget(String key, long fromId) {
        Seen s = keys.get(key);
        if (s != null && s.id() >= fromId) {
            keys.remove(key);
        }
    }

    /** Forgets keys older than the window at {@code now} and any beyond the cap. */
    void expire(long now) {
        Iterator<Seen> it = keys.values().iterator();
        while (it.hasNext()) {
            Seen s = it.next();
            if (s.time() > now - windowMillis && keys.size() <= maxKeys) {
                return;
            }
            it.remove();
        }
    }

    /** Forgets keys naming ids above {@code lastId} (logged before an append that never happened). */
    void forgetAbove(long lastId) {
        keys.values().removeIf(s -> s.id() > lastId);
    }

    int size() {
        return keys.size();
    }

    /** The keys held now, oldest first (a copy, for snapshots). */
    Map<String, Seen> snapshot() {
        return new LinkedHashMap<>(keys);
    }
}
