package dev.spool.storage;

/**
 * Rewrites a message as it moves to a dead-letter queue, so the delivery count can go into it (the
 * storage engine does not know the message format).
 */
@FunctionalInterface
public interface DeadLetterCodec {
    /** Keeps messages unchanged. */
    DeadLetterCodec IDENTITY = (payload, from, id, deliveries) -> payload;

    byte[] deadLetter(byte[] payload, String fromQueue, long id, int deliveries);
}
