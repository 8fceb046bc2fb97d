package dev.spool.storage;

import java.util.List;

/** Outcome of {@link QueueStore#lease}. */
public sealed interface LeaseResult permits LeaseResult.Granted, NoSuchQueue, NoSuchSubscription {

    /** Up to the requested number of messages, oldest first; empty when none is available. */
    record Granted(List<Leased> messages) implements LeaseResult {
    }
}
