package dev.spool.benchmarks.drill;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the drill's clients saw: messages attempted, acknowledged (2xx) and delivered, by unique key.
 * Thread-safe. {@link #report} turns it into the verdict.
 */
public final class Ledger {
    private final Set<String> attempted = ConcurrentHashMap.newKeySet();
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> deliveries = new ConcurrentHashMap<>();
    private final LongAdder unansweredPulls = new LongAdder();
    private final LongAdder unconfirmedPulls = new LongAdder();
    private final Set<String> deadLettered = ConcurrentHashMap.newKeySet();

    /** A push of {@code key} is about to be sent. */
    public void attempt(String key) {
        attempted.add(key);
    }

    /** The broker answered 2xx to the push of {@code key}. */
    public void acknowledge(String key) {
        acknowledged.add(key);
    }

    /** A pull returned the message {@code key}. */
    public void deliver(String key) {
        deliveries.merge(key, 1, Integer::sum);
    }

    /** A message was found in a dead-letter queue at the end. */
    public void deadLettered(String key) {
        deadLettered.add(key);
    }

    /**
     * A pull got no answer (the broker died with it in flight): the broker may have consumed a message that no
     * client saw, which the contract allows for the one request in flight at a crash.
     */
    public void unansweredPull() {
        unansweredPulls.increment();
    }

    /**
     * On Kafka, a pull answered that Kafka could not confirm its acknowledgement (a broker died): it may have
     * taken its one message, which the cluster contract allows.
     */
    public void unconfirmedPull() {
        unconfirmedPulls.increment();
    }

    /** Pushes acknowledged so far. */
    long acknowledgedSoFar() {
        return acknowledged.size();
    }

    /** Distinct messages delivered so far. */
    long deliveredSoFar() {
        return deliveries.size();
    }

    /**
     * The accounting.
     *
     * @param tailCorrupted the drill damaged journal tails on purpose: acknowledged messages behind the
     *                      damage are reported as lost but do not fail the verdict
     * @param inFlightLimit at most this many pulls can have been in flight at the kills (consumers times
     *                      cycles): the allowance for unseen consumption never exceeds it
     */
    public DrillReport report(boolean tailCorrupted, long inFlightLimit) {
        java.util.List<String> lostKeys = acknowledged.stream()
                .filter(k -> !deliveries.containsKey(k) && !deadLettered.contains(k)).sorted().toList();
        long lost = lostKeys.size();
        long deadLetteredUnseen = deadLettered.stream().filter(k -> !deliveries.containsKey(k)).count();
        long duplicated = deliveries.values().stream().mapToLong(n -> n - 1).sum();
        java.util.List<String> duplicatedKeys = deliveries.entrySet().stream().filter(e -> e.getValue() > 1)
                .map(java.util.Map.Entry::getKey).sorted().limit(20).toList();
        long unexpected = deliveries.keySet().stream().filter(k -> !attempted.contains(k)).count();
        long unacknowledgedDelivered = deliveries.keySet().stream()
                .filter(k -> attempted.contains(k) && !acknowledged.contains(k)).count();
        long allowedLoss = Math.min(unansweredPulls.sum(), inFlightLimit) + unconfirmedPulls.sum();
        boolean pass = duplicated == 0 && unexpected == 0 && deadLetteredUnseen == 0
                && (tailCorrupted || lost <= allowedLoss);
        return new DrillReport(attempted.size(), acknowledged.size(), deliveries.size(), lost, allowedLoss, duplicated,
                unexpected, unacknowledgedDelivered, deadLetteredUnseen,
                lostKeys.subList(0, Math.min(20, lostKeys.size())), duplicatedKeys, pass);
    }
}
