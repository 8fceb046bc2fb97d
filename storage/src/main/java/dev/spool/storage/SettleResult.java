package dev.spool.storage;

import java.util.List;

/** Outcome of {@link QueueStore#settle}. */
public sealed interface SettleResult permits SettleResult.Settled, NoSuchQueue, NoSuchSubscription {

    /**
     * @param accepted leases acted on
     * @param rejected leases refused, each with why
     */
    record Settled(int accepted, List<Rejected> rejected) implements SettleResult {
    }

    /** Why a lease was refused. */
    enum Reason {
        /** The lease's time ran out (the message may have gone to another consumer). */
        EXPIRED,
        /** Not a lease of this queue, or its message is already acknowledged. */
        UNKNOWN
    }

    /** One refused lease. */
    record Rejected(String lease, Reason reason) {
    }
}
