package dev.spool.storage;

import java.util.List;

/** Outcome of {@link QueueStore#pullBatch}. */
public sealed interface BatchPullResult {

    /** Up to the requested number of messages, oldest first, each consumed for good; may be empty. */
    record Messages(List<PullResult.Message> messages) implements BatchPullResult {
    }

    /** There is no such queue. */
    record NoSuchQueue() implements BatchPullResult {
    }
}
