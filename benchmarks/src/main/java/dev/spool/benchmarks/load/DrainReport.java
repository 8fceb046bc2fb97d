package dev.spool.benchmarks.load;

import java.util.Locale;

/**
 * What a drain measured and whether every message came out once.
 *
 * @param summary     the measured drain: its messages are those removed (destructive) or acknowledged (leases)
 * @param backlog     messages pushed before the drain (their ids as the broker answered them)
 * @param fillSeconds time to push the backlog (not measured as part of the drain)
 * @param delivered   messages received by the drain, repeats included
 * @param distinct    distinct ids among them
 * @param lost        pushed ids never received
 * @param unexpected  received ids that the fill did not push (a queue that was not empty)
 * @param ackRejected lease tokens the broker refused to acknowledge
 * @param stoppedEarly a connection stopped before the queue answered it empty: {@code --duration} reached, or
 *                    a request refused (see the errors)
 */
record DrainReport(LatencySummary summary, long backlog, double fillSeconds, long delivered, long distinct,
                          long lost, long unexpected, long ackRejected, boolean stoppedEarly) {

    public long duplicates() {
        return delivered - distinct;
    }

    /** Every pushed message was received exactly once, nothing else was, and every ack was accepted. */
    public boolean complete() {
        return !stoppedEarly && lost == 0 && unexpected == 0 && duplicates() == 0 && ackRejected == 0;
    }

    /** One human-readable line. */
    public String render() {
        return String.format(Locale.ROOT, "backlog %d (filled in %.1f s, not measured): received %d, distinct %d, "
                        + "duplicates %d, lost %d, unexpected %d, acks rejected %d%s -> %s", backlog, fillSeconds,
                delivered, distinct, duplicates(), lost, unexpected, ackRejected,
                stoppedEarly ? ", stopped before the queue was empty" : "", complete() ? "complete" : "INCOMPLETE");
    }
}
