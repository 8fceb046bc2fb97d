package dev.spool.storage;

import java.util.List;

/** Outcome of {@link QueueStore#take}. */
public sealed interface TakeResult permits TakeResult.Taken, NoSuchQueue, NoSuchSubscription {

    /** Up to the requested number of messages, oldest first, each consumed for good; may be empty. */
    record Taken(List<Message> messages) implements TakeResult {
    }
}
