package dev.spool.storage.kafka;

import dev.spool.storage.QueueCounts;

import java.util.concurrent.atomic.LongAdder;

/**
 * What this node did with one queue's messages since it started serving that creation of the queue: the
 * {@link QueueCounts} of its stats and its leases in flight. A node counts only its own work (another node's leases
 * and acks are in that node's stats); {@code dead_lettered} counts what this node moved to the dead-letter queue
 * (a record whose lock ran out on a node that died is dead-lettered by Kafka, uncounted). Written by the queue's pump thread and by the pushing threads.
 */
final class Tally {
    final LongAdder duplicates = new LongAdder();
    final LongAdder taken = new LongAdder();
    final LongAdder delivered = new LongAdder();
    final LongAdder acked = new LongAdder();
    final LongAdder nacked = new LongAdder();
    final LongAdder expired = new LongAdder();
    final LongAdder redriven = new LongAdder();
    final LongAdder deadLettered = new LongAdder();
    /** Leases this node handed out that are neither settled nor expired; set by the pump thread. */
    volatile int inFlight;

    QueueCounts counts() {
        return new QueueCounts(duplicates.sum(), taken.sum(), delivered.sum(), acked.sum(), nacked.sum(),
                expired.sum(), deadLettered.sum(), redriven.sum());
    }
}
