package dev.spool.storage;

import java.util.List;

/** Outcome of {@link QueueStore#lease} and {@link QueueStore#pull(String, int)}. */
public sealed interface LeaseResult {

    /** Up to the requested number of messages, oldest first; empty when none is available. */
    record Granted(List<Leased> messages) implements LeaseResult {
    }

    /** There is no such queue. */
    record NoSuchQueue() implements LeaseResult {
    }
}
