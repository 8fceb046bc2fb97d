package dev.spool.storage;

import java.util.List;

/**
 * Outcome of {@link QueueStore#ack}, {@link QueueStore#nack} and {@link QueueStore#renew}.
 *
 * @param accepted leases acted on
 * @param rejected leases refused, each with why
 * @param missing  true if there is no such queue (then nothing was accepted)
 */
public record SettleResult(int accepted, List<Rejected> rejected, boolean missing) {

    /** Why a lease was refused. */
    public enum Reason {
        /** The lease's time ran out (the message may have gone to another consumer). */
        EXPIRED,
        /** Not a lease of this queue, or its message is already acknowledged. */
        UNKNOWN
    }

    /** One refused lease. */
    public record Rejected(String lease, Reason reason) {
    }

    static SettleResult noSuchQueue() {
        return new SettleResult(0, List.of(), true);
    }
}
