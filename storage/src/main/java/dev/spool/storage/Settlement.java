package dev.spool.storage;

/** What {@link QueueStore#settle} does with valid leases. */
public enum Settlement {
    /** Consumed for good. */
    ACK,
    /** Released: available again after the given delay (zero: at once). */
    NACK,
    /** Extended to the given visibility from now. */
    RENEW
}
