package dev.spool.benchmarks.drill;

/**
 * The drill's accounting.
 *
 * @param attempted               pushes sent
 * @param acknowledged            pushes answered 2xx
 * @param delivered               distinct messages pulled
 * @param lost                    acknowledged but never delivered
 * @param unansweredPulls         pulls in flight at a kill, capped at one per consumer and kill (each may
 *                                have consumed one message unseen)
 * @param duplicated              deliveries beyond the first of a message
 * @param unexpected              delivered messages that no producer sent
 * @param unacknowledgedDelivered pushes in flight at a kill that were stored after all (allowed)
 * @param deadLetteredUnseen      messages found in a dead-letter queue that no consumer ever saw (on Kafka a
 *                                delivery is counted at each acquisition, seen or not); not counted as lost
 * @param lostKeys                up to 20 of the lost messages' keys ({@code p<producer>-<seq>}, pushed to queue
 *                                {@code drill-<seq % queues>}), to look for in the logs
 * @param duplicatedKeys          up to 20 keys of messages delivered more than once
 * @param pass                    no duplicate, nothing unexpected, nothing dead-lettered unseen, and no loss
 *                                beyond the unanswered pulls
 */
public record DrillReport(long attempted, long acknowledged, long delivered, long lost, long unansweredPulls,
                          long duplicated, long unexpected, long unacknowledgedDelivered, long deadLetteredUnseen,
                          java.util.List<String> lostKeys, java.util.List<String> duplicatedKeys, boolean pass) {
}
