package dev.spool.storage.journal;

import dev.spool.storage.DeleteResult;
import dev.spool.storage.NoSuchQueue;
import dev.spool.storage.NoSuchSubscription;
import dev.spool.storage.QueueStore;
import dev.spool.storage.StoreException;
import dev.spool.storage.SubscriptionResult;
import dev.spool.storage.SubscriptionSpec;
import dev.spool.storage.SubscriptionStart;
import dev.spool.storage.SubscriptionStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal store's administration of named subscriptions (create, show, seek, pause, delete, and the retention
 * bounds), under the store's administration lock, and its checkpoint lock where a subscription's files are written:
 * the store's {@link QueueStore} methods call these.
 */
final class SubscriptionAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriptionAdmin.class);
    private final JournalQueueStore store;

    SubscriptionAdmin(JournalQueueStore store) {
        this.store = store;
    }

    SubscriptionResult create(String queue, String sub, SubscriptionSpec spec) {
        JournalQueueStore.checkName(queue);
        checkSubscription(sub);
        synchronized (store.adminLock()) {
            store.ensureOpen();
            OpenQueue o = store.opened(queue);
            if (o == null) {
                return new NoSuchQueue(queue);
            }
            Queue q = o.queue();
            if (q.subscription(sub) != null) {
                return new SubscriptionResult.Exists(queue, sub);
            }
            String dlq = spec.deadLetterQueue() != null ? spec.deadLetterQueue()
                    : SubscriptionSpec.defaultDeadLetterQueue(queue, sub);
            if (!QueueStore.isValidName(dlq) || dlq.equals(queue)) {
                throw new IllegalArgumentException("dead-letter queue name must match " + QueueStore.NAME_PATTERN
                        + " and differ from the queue's, was '" + dlq + "'");
            }
            int maxDeliveries = spec.maxDeliveries() != null ? spec.maxDeliveries() : q.meta.options().maxDeliveries();
            if (maxDeliveries < 0) {
                throw new IllegalArgumentException("max_deliveries must be 0 (never) or more, was " + maxDeliveries);
            }
            if (!store.space().admit(0)) {
                throw store.space().refusal(queue);
            }
            Subscription.Meta meta = new Subscription.Meta(sub, maxDeliveries, dlq, spec.paused(),
                    store.config().clock().instant(), 0);
            synchronized (store.checkpointLock()) {
                try {
                    Queue.Named n = q.createSubscription(meta, spec.start(), store.json(), store.config());
                    return n == null ? new SubscriptionResult.Exists(queue, sub) : q.stats(n);
                } catch (Queue.BadStart e) {
                    return new SubscriptionResult.BadStart(e.getMessage());
                } catch (IOException e) {
                    throw StoreException.of("creating subscription '" + sub + "' of queue '" + queue + "'", e,
                            q.dir);
                }
            }
        }
    }

    DeleteResult delete(String queue, String sub) {
        JournalQueueStore.checkName(queue);
        checkSubscription(sub);
        synchronized (store.adminLock()) {
            store.ensureOpen();
            OpenQueue o = store.opened(queue);
            if (o == null) {
                return new NoSuchQueue(queue);
            }
            synchronized (store.checkpointLock()) {
                try {
                    return o.queue().deleteSubscription(sub) ? new DeleteResult.Deleted()
                            : new NoSuchSubscription(queue, sub);
                } catch (IOException e) {
                    throw StoreException.of("deleting subscription '" + sub + "' of queue '" + queue + "'", e,
                            o.queue().dir);
                }
            }
        }
    }

    SubscriptionResult show(String queue, String sub) {
        OpenQueue o = store.opened(queue);
        if (o == null) {
            return new NoSuchQueue(queue);
        }
        if (sub == null) {
            List<SubscriptionStats> all = new ArrayList<>();
            for (Queue.Named n : o.queue().subscriptions()) {
                all.add(o.queue().stats(n));
            }
            return new SubscriptionResult.Listed(all);
        }
        Queue.Named n = o.queue().subscription(sub);
        return n == null ? new NoSuchSubscription(queue, sub) : o.queue().stats(n);
    }

    SubscriptionResult seek(String queue, String sub, SubscriptionStart start) {
        return administer(queue, sub, (o, n) -> {
            synchronized (store.checkpointLock()) {
                try {
                    if (!o.queue().seek(n, start)) {
                        return new NoSuchSubscription(queue, sub);
                    }
                } catch (Queue.BadStart e) {
                    return new SubscriptionResult.BadStart(e.getMessage());
                } catch (StoreException e) {
                    throw e;
                } catch (IOException | RuntimeException e) {
                    o.queue().fail("subscription '" + sub + "': a seek's write failed", e, false);
                    throw StoreException.of("seeking subscription '" + sub + "' of queue '" + queue + "'", e,
                            o.queue().dir);
                }
            }
            return o.queue().stats(n);
        });
    }

    SubscriptionResult pause(String queue, String sub, boolean paused) {
        return administer(queue, sub, (o, n) -> {
            try {
                o.queue().pause(n, paused, store.json());
            } catch (IOException e) {
                throw StoreException.of((paused ? "pausing" : "resuming") + " subscription '" + sub + "' of queue '"
                        + queue + "'", e, o.queue().dir);
            }
            return o.queue().stats(n);
        });
    }

    /** Runs {@code op} on subscription {@code sub} of {@code queue} under the administration lock, if both exist. */
    private SubscriptionResult administer(String queue, String sub,
                                          java.util.function.BiFunction<OpenQueue, Queue.Named, SubscriptionResult> op) {
        synchronized (store.adminLock()) {
            store.ensureOpen();
            OpenQueue o = store.opened(queue);
            if (o == null) {
                return new NoSuchQueue(queue);
            }
            Queue.Named n = o.queue().subscription(sub);
            return n == null ? new NoSuchSubscription(queue, sub) : op.apply(o, n);
        }
    }

    /**
     * Applies {@code retention.*} to every queue: named subscriptions behind the bounds move forward (see
     * {@link Queue#enforceRetention}). Runs on the store's thread every second when bounds are configured.
     */
    void enforceRetention() {
        synchronized (store.adminLock()) {
            if (store.isClosed()) {
                return;
            }
            synchronized (store.checkpointLock()) {
                for (OpenQueue o : store.openQueues()) {
                    try {
                        o.queue().enforceRetention(store.config().retention(), store.config().clock().millis(),
                                store.json());
                    } catch (StoreException e) {
                        LOG.error("queue '{}': applying the retention bounds failed: {} (retried in a second)",
                                o.queue().name, e.toString());
                    } catch (IOException | RuntimeException e) {
                        // A write of a subscription's move failed part-way: what its files hold is unknown.
                        o.queue().fail("applying the retention bounds failed", e, false);
                    }
                }
            }
        }
    }

    private static void checkSubscription(String sub) {
        if (!QueueStore.isValidSubscription(sub)) {
            throw new IllegalArgumentException("subscription name must match " + QueueStore.SUBSCRIPTION_PATTERN
                    + ", was '" + sub + "'");
        }
    }

}
