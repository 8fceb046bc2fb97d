package dev.spool.storage;

/** Outcome of {@link QueueStore#delete}. */
public sealed interface DeleteResult permits DeleteResult.Deleted, NoSuchQueue, NoSuchSubscription {

    /** The queue, its journal and cursor are gone, durably. */
    record Deleted() implements DeleteResult {
    }
}
