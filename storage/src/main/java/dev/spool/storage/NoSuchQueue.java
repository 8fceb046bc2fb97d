package dev.spool.storage;

/** The one outcome every call on a queue can have: there is no queue of that name. */
public record NoSuchQueue(String name) implements PushResult, TakeResult, LeaseResult, SettleResult, RedriveResult,
        DeleteResult, StatsResult, OptionsResult, SubscriptionResult {
}
