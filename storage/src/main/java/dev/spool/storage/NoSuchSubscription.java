package dev.spool.storage;

/** The queue exists but has no subscription of that name. */
public record NoSuchSubscription(String queue, String name) implements TakeResult, LeaseResult, SettleResult,
        RedriveResult, DeleteResult, SubscriptionResult {
}
