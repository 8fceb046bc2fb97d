package dev.spool.storage;

/** Outcome of {@link QueueStore#pull}. */
public sealed interface PullResult {

    /** The oldest message, now consumed; {@code id} is the id its push returned. */
    record Message(long id, byte[] payload) implements PullResult {
    }

    /** The queue holds no message. */
    record Empty() implements PullResult {
    }

    /** There is no such queue. */
    record NoSuchQueue() implements PullResult {
    }
}
