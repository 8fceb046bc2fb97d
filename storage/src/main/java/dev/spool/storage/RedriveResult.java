package dev.spool.storage;

/** Outcome of {@link QueueStore#redrive}. */
public sealed interface RedriveResult permits RedriveResult.Moved, NoSuchQueue, NoSuchSubscription {

    /** How many dead letters moved back (0 when there were none, or no dead-letter queue). */
    record Moved(long count) implements RedriveResult {
    }
}
