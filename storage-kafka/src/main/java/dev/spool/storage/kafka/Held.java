package dev.spool.storage.kafka;

import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** A record a slot holds from its last poll, and what the pump made of it. Pump-thread state. */
final class Held {
    /** Fetched for nobody yet, leased, nacked and waiting out its delay, being dead-lettered, or acknowledged. */
    enum State { UNCLAIMED, LEASED, DELAYED, MOVING, DECIDED }

    final ShareSlot slot;
    /** As the slot's last poll returned it (a renewed record comes back as a new object). */
    ConsumerRecord<byte[], byte[]> record;
    final long since;
    /** When its lock began, at the earliest: its acquisition or its last renewal. */
    long acquiredAt;
    State state = State.UNCLAIMED;
    AcknowledgeType decided;
    boolean sent;
    String token;
    long expiresAt;

    Held(ShareSlot slot, ConsumerRecord<byte[], byte[]> record, long since, long acquiredAt) {
        this.slot = slot;
        this.record = record;
        this.since = since;
        this.acquiredAt = acquiredAt;
    }

    void decide(AcknowledgeType type) {
        state = State.DECIDED;
        decided = type;
    }
}
