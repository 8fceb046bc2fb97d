package dev.spool.storage.kafka;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyLocksTest {
    private final KeyLocks locks = new KeyLocks();

    @Test
    void aKeyHeldByOnePushShouldMakeTheNextWaitUntilItIsLetGo() {
        CompletableFuture<Runnable> first = locks.lock(List.of("q/a", "q/b", "q/a"));
        assertTrue(first.isDone(), "nobody held them");
        assertEquals(2, locks.held(), "a repeated key is held once");
        CompletableFuture<Runnable> second = locks.lock(List.of("q/b"));
        CompletableFuture<Runnable> other = locks.lock(List.of("q/c"));
        assertFalse(second.isDone(), "q/b is held");
        assertTrue(other.isDone(), "other keys are not held up");
        first.join().run();
        assertTrue(second.isDone(), "let go: the waiting push goes on");
        second.join().run();
        other.join().run();
        assertEquals(0, locks.held());
    }

    @Test
    @Timeout(60)
    void pushesTakingOverlappingKeysInAnyOrderShouldAllFinish() throws Exception {
        // Each holder keeps its keys a little while on a pool thread; taken in sorted order, nobody waits in a
        // cycle, so every lock is granted and every key let go.
        String[] keys = {"a", "b", "c", "d", "e"};
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        try {
            for (int i = 0; i < 2_000; i++) {
                List<String> mine = new ArrayList<>();
                for (String k : keys) {
                    if (ThreadLocalRandom.current().nextBoolean()) {
                        mine.add(k);
                    }
                }
                mine.add(keys[i % keys.length]); // at least one, in no particular order
                Collections.shuffle(mine);
                boolean holdsA = mine.contains("a");
                all.add(locks.lock(mine).thenComposeAsync(release -> CompletableFuture.runAsync(() -> {
                    if (holdsA) {
                        most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        Thread.yield();
                        inside.decrementAndGet();
                    }
                    release.run();
                }, pool), pool));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, most.get(), "one holder of a key at a time");
        assertEquals(0, locks.held());
    }
}
