package dev.spool.storage.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Non-blocking locks on idempotency keys, one node's worth: a push holds its keys from before it looks them up
 * until it is answered, so a second push of the same key on this node waits and then finds the key written.
 * Keys are taken in sorted order, so two pushes never wait on each other; nobody blocks a thread while waiting.
 */
final class KeyLocks {
    /** Key -> completed when its holder lets it go. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> held = new ConcurrentHashMap<>();

    /**
     * Completes once the caller holds every one of {@code keys} (duplicates count once); the value lets them go
     * and must be run exactly once. Completes at once when no other push holds any of them.
     */
    CompletableFuture<Runnable> lock(Collection<String> keys) {
        List<String> sorted = keys.stream().distinct().sorted().toList();
        CompletableFuture<Runnable> locked = new CompletableFuture<>();
        take(sorted, 0, new ArrayList<>(sorted.size()), locked);
        return locked;
    }

    private void take(List<String> keys, int from, List<CompletableFuture<Void>> mine, CompletableFuture<Runnable> locked) {
        for (int i = from; i < keys.size(); i++) {
            CompletableFuture<Void> release = new CompletableFuture<>();
            CompletableFuture<Void> other = held.putIfAbsent(keys.get(i), release);
            if (other != null) {
                int at = i;
                other.whenComplete((v, x) -> take(keys, at, mine, locked));
                return;
            }
            mine.add(release);
        }
        locked.complete(() -> {
            for (int i = 0; i < keys.size(); i++) {
                held.remove(keys.get(i), mine.get(i));
                mine.get(i).complete(null);
            }
        });
    }

    /** Keys held now (for tests and leaks). */
    int held() {
        return held.size();
    }
}
