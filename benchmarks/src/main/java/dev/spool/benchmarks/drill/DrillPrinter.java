package dev.spool.benchmarks.drill;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The drill's report, as text or (with {@code --json}) as JSON. */
final class DrillPrinter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DrillPrinter() {
    }

    /**
     * @param subscriptions each named subscription's report (the queues' own is {@code r}); a drill passes when all
     *                      do
     */
    static void print(DrillOptions o, PrintStream out, DrillReport r, java.util.Map<String, DrillReport> subscriptions,
                      List<Long> restarts, long droppedPackets, long delayedBytes) throws IOException {
        boolean pass = r.pass() && subscriptions.values().stream().allMatch(DrillReport::pass);
        long max = restarts.stream().mapToLong(Long::longValue).max().orElse(0);
        double avg = restarts.stream().mapToLong(Long::longValue).average().orElse(0);
        if (o.json()) {
            ObjectNode n = JSON.valueToTree(r);
            n.put("cycles", o.cycles());
            n.put("corrupt", o.corrupt().name().toLowerCase(Locale.ROOT));
            n.put("backend", o.backend().name().toLowerCase(Locale.ROOT));
            n.put("kill", o.kill().name().toLowerCase(Locale.ROOT));
            n.put("loss", o.loss());
            n.put("delay_ms", o.delayMs());
            n.put("dropped_packets", droppedPackets); // by --loss: the faults took
            n.put("delayed_bytes", delayedBytes); // through the --delay-ms proxies
            n.put("restart_ms_avg", avg);
            n.put("restart_ms_max", max);
            com.fasterxml.jackson.databind.node.ArrayNode subs = n.putArray("subscriptions");
            subscriptions.forEach((name, sr) -> {
                ObjectNode sn = JSON.valueToTree(sr);
                sn.put("name", name);
                subs.add(sn);
            });
            n.put("verdict", pass ? "PASS" : "FAIL");
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
            return;
        }
        out.printf(Locale.ROOT, """
                [drill] %d fault cycles (%s), corruption: %s, fsync: %s
                  pushes attempted          %d
                  pushes acknowledged       %d
                  messages delivered        %d
                  lost (acked, never seen)  %d   (pulls unanswered at a kill or unconfirmed by Kafka, each may hide one: %d)
                  duplicated deliveries     %d
                  unexpected messages       %d
                  unacked but stored        %d   (pushes in flight at a kill; allowed)
                  dead-lettered unseen      %d   (delivery limit reached with no consumer seeing it)
                  lost keys                 %s
                  duplicated keys           %s
                  packets dropped by loss   %d   (bytes through the delay proxies: %d)
                  cycle time                avg %.0f ms, max %d ms (a restart: JVM start to listening)
                %s  verdict                   %s
                """, o.cycles(), o.backend() == DrillOptions.Backend.CHRONICLE ? "chronicle"
                        : "kafka, " + switch (o.kill()) {
                            case BROKER -> "killing Kafka nodes";
                            case NODE -> "killing Spool nodes";
                            case HOST -> "taking Spool nodes' hosts down";
                            case PARTITION -> "cutting Spool nodes off";
                        } + (o.loss() > 0 ? ", packet loss " + o.loss() : "")
                        + (o.delayMs() > 0 ? ", " + o.delayMs() + " ms delay each way to Kafka" : ""),
                o.corrupt().name().toLowerCase(Locale.ROOT), o.fsync(), r.attempted(),
                r.acknowledged(), r.delivered(), r.lost(), r.unansweredPulls(), r.duplicated(), r.unexpected(),
                r.unacknowledgedDelivered(), r.deadLetteredUnseen(), r.lostKeys().isEmpty() ? "none" : r.lostKeys(),
                r.duplicatedKeys().isEmpty() ? "none" : r.duplicatedKeys(),
                droppedPackets, delayedBytes, avg, max, perSubscription(subscriptions), pass ? "PASS" : "FAIL");
    }

    /** One line per named subscription: what it received, against the same acknowledged pushes. */
    private static String perSubscription(java.util.Map<String, DrillReport> subscriptions) {
        StringBuilder sb = new StringBuilder();
        subscriptions.forEach((name, s) -> sb.append(String.format(Locale.ROOT, "  subscription %-12s delivered %d,"
                + " lost %d (unanswered pulls %d), duplicated %d, unexpected %d, dead-lettered unseen %d: %s%n",
                name, s.delivered(), s.lost(), s.unansweredPulls(), s.duplicated(), s.unexpected(),
                s.deadLetteredUnseen(), s.pass() ? "PASS" : "FAIL")));
        return sb.toString();
    }
}
