package dev.spool.storage;

/** Outcome of {@link QueueStore#stats}: the queue's {@link QueueStats}, or {@link NoSuchQueue}. */
public sealed interface StatsResult permits QueueStats, NoSuchQueue {
}
