package dev.spool.storage.journal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The store's own threads: a checkpointer, and one store thread that samples the free space, extends id
 * reservations, moves dead letters and wakes queues at lease expiries and delay ends. At close, timers not yet
 * due are dropped: what they would do is redone at the next start.
 */
final class StoreThreads {
    private static final Logger LOG = LoggerFactory.getLogger(StoreThreads.class);

    private final ScheduledExecutorService checkpointer = daemon("spool-checkpoint");
    private final ScheduledExecutorService store = daemon("spool-store");

    private static ScheduledExecutorService daemon(String name) {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        e.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        return e;
    }

    /** Runs {@code task} on the store thread every {@code millis}. */
    void everyOnStoreThread(Runnable task, long millis) {
        store.scheduleWithFixedDelay(task, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** Runs {@code task} on the checkpointer every {@code millis}. */
    void everyOnCheckpointer(Runnable task, long millis) {
        checkpointer.scheduleWithFixedDelay(task, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** Hands a task to the store thread; false if the store is closing and the task will not run. */
    boolean onStoreThread(Runnable task, long delayMillis) {
        try {
            store.schedule(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("store task failed", e);
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (RejectedExecutionException e) {
            // Closing: the work is redone at the next start (leases and dead letters are recovered).
            return false;
        }
    }

    /** Waits until the store thread has done what was handed to it so far (for tests: dead letters). */
    void awaitStoreThread() {
        try {
            store.submit(() -> { }).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops both threads, letting running work finish (10 s at most each). */
    void shutdown() {
        for (ScheduledExecutorService s : List.of(checkpointer, store)) {
            s.shutdown();
            try {
                if (!s.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("background work did not finish within 10 s of close");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
