package dev.spool.storage;

/** Outcome of {@link QueueStore#create}. */
public enum CreateResult {
    /** The queue was created and the creation is durable. */
    CREATED,
    /** A queue of that name exists already; nothing changed. */
    EXISTS
}
