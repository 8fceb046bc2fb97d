package dev.spool.storage;

import java.util.List;

/** Outcome of creating, showing, seeking or pausing a subscription. */
public sealed interface SubscriptionResult permits SubscriptionStats, NoSuchQueue, NoSuchSubscription,
        SubscriptionResult.Exists, SubscriptionResult.BadStart, SubscriptionResult.Listed {

    /** A subscription of that name exists already (nothing changed). */
    record Exists(String queue, String name) implements SubscriptionResult {
    }

    /** The start names no place in the queue (an id past its end or no longer held); nothing changed. */
    record BadStart(String why) implements SubscriptionResult {
    }

    /** Every named subscription of a queue, by name. */
    record Listed(List<SubscriptionStats> subscriptions) implements SubscriptionResult {
    }
}
