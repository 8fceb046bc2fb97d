package dev.spool.storage;

/** A one-message take, as the storage tests look at it. */
public sealed interface PullResult {
    record Message(long id, byte[] payload) implements PullResult {
    }

    record Empty() implements PullResult {
    }

    record NoSuchQueue() implements PullResult {
    }
}
