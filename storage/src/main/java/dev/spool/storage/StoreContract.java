package dev.spool.storage;

import java.time.Duration;
import java.util.List;

/**
 * What a store guarantees, for the HTTP layer to validate against and to report. The journal store gives
 * every guarantee exactly ({@link #EXACT}); a store over a distributed engine may give some only softly,
 * and says which here so that a request it cannot honour is refused rather than silently weakened.
 *
 * @param backend            the engine's name, reported by the API ({@code "chronicle"}, {@code "kafka"})
 * @param exactMaxLength     a push that would pass {@code max_length} is always refused (else: soft, may overshoot
 *                           under concurrent pushes on several nodes)
 * @param exactFifo          pulls and leases return the oldest available messages across the whole queue (else:
 *                           oldest first per node, approximately across nodes)
 * @param consecutiveIds     a push's ids are consecutive (else: increasing)
 * @param exactDeliveryCount a lease's {@code delivery} counts leases only (else: it may also count acquisitions
 *                           the engine made for a node that nobody claimed)
 * @param minMaxDeliveries   the smallest {@code max_deliveries} other than 0 a queue may be created with
 * @param maxMaxDeliveries   the largest {@code max_deliveries} a queue may be created with
 * @param neverDeadLetter    {@code max_deliveries: 0} means "never" (else: 0 is refused, as a request the backend
 *                           cannot honour)
 * @param maxVisibility      the longest lease visibility, and the longest renewal
 * @param delayedNack        a nack may carry a delay
 * @param renew              leases can be renewed
 * @param idempotencyScope   where {@code Idempotency-Key}s are recognised: {@code "store"} (the one store,
 *                           across restarts), {@code "cluster"} (any node, across restarts, once the push that
 *                           stored the key was answered) or {@code "node"} (the node that stored it, until it
 *                           restarts)
 * @param waitsInside        long polls wait inside the store ({@link QueueStore#take(String, int, Duration)})
 *                           rather than on {@link QueueStore#subscribe} signals
 * @param durability         the durabilities a push can report
 */
public record StoreContract(String backend, boolean exactMaxLength, boolean exactFifo, boolean consecutiveIds,
                            boolean exactDeliveryCount, int minMaxDeliveries, int maxMaxDeliveries,
                            boolean neverDeadLetter, Duration maxVisibility, boolean delayedNack, boolean renew,
                            String idempotencyScope, boolean waitsInside, List<Durability> durability) {

    /** The journal store's contract: everything exact. */
    public static final StoreContract EXACT = new StoreContract("chronicle", true, true, true, true, 1,
            Integer.MAX_VALUE, true, Duration.ofHours(12), true, true, "store", false,
            List.of(Durability.PROCESS, Durability.DISK));

    public StoreContract {
        durability = List.copyOf(durability);
    }

    /** Why {@code maxDeliveries} cannot be honoured, or null if it can. */
    public String refuseMaxDeliveries(int maxDeliveries) {
        if ((maxDeliveries == 0 && neverDeadLetter)
                || (maxDeliveries >= minMaxDeliveries && maxDeliveries <= maxMaxDeliveries)) {
            return null;
        }
        if (!neverDeadLetter) {
            return "max_deliveries must be within " + minMaxDeliveries + ".." + maxMaxDeliveries + " on the " + backend
                    + " backend (0, never dead-letter, cannot be honoured there: a message is handed out at most "
                    + maxMaxDeliveries + " times), was " + maxDeliveries;
        }
        return "max_deliveries must be 0 or within " + minMaxDeliveries + ".." + maxMaxDeliveries + " on the "
                + backend + " backend, was " + maxDeliveries;
    }
}
