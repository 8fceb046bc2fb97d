package dev.spool.storage;

/** Outcome of {@link QueueStore#options}: the queue's {@link QueueOptions}, or {@link NoSuchQueue}. */
public sealed interface OptionsResult permits QueueOptions, NoSuchQueue {
}
