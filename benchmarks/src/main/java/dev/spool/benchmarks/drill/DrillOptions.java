package dev.spool.benchmarks.drill;

import dev.spool.benchmarks.Args;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** What a drill does. */
public record DrillOptions(Path brokerJar, int cycles, int producers, int consumers, int queues, Duration minUptime,
                           Duration maxUptime, Corruption corrupt, String fsync, Path dataDir, boolean json,
                           long seed, Backend backend, Kill kill, double loss, int delayMs, int subscriptions) {

    /** The broker's storage. */
    public enum Backend { CHRONICLE, KAFKA }

    /**
     * What a cycle does: kill a Spool node with SIGKILL, or (on Kafka) a Kafka node; take a Spool node's host down
     * (its traffic dropped, so connects time out, then the node killed and its host back); or cut a Spool node off
     * from Kafka, the other node and its clients for a while (a partition), and heal.
     */
    public enum Kill {
        NODE, BROKER, HOST, PARTITION;

        /** Whether a cycle cuts a Spool node's network (host or partition) rather than killing a process. */
        boolean cutsNetwork() {
            return this == HOST || this == PARTITION;
        }
    }

    /** What to damage while the broker is down. */
    public enum Corruption { NONE, CHECKPOINT, JOURNAL_TAIL }

    static final String USAGE = """
            usage: spool-bench.jar drill [options]
              --broker-jar PATH    the broker jar (default broker/target/spool-broker.jar)
              --cycles N           kill -9 and restart N times (default 5)
              --producers N        pushing clients (default 4)
              --consumers N        pulling clients (default 2)
              --queues N           queues used (default 2)
              --subscriptions N    named subscriptions of each queue (default 0), each consumed beside the queue's
                                   own and accounted for on its own (lost, duplicated, unexpected) (chronicle)
              --min-uptime D       shortest time between restart and kill (default 1s)
              --max-uptime D       longest (default 3s)
              --corrupt KIND       none | checkpoint | journal-tail: damage files while the broker is down
              --fsync POLICY       the broker's storage.fsync (default none)
              --backend KIND       chronicle (default) | kafka: two Spool nodes over a local 3-node Kafka
              --kill TARGET        node (default): a Spool node | broker: a Kafka node | host: a Spool node's host
                                   down (traffic dropped, then the node killed) | partition: a Spool node cut off
                                   for a while (broker, host and partition need --backend kafka; host and
                                   partition need root, network namespaces and iptables)
              --loss P             drop each packet in and out of a Spool node with probability P (0 to 0.5)
              --delay-ms N         delay every byte between Spool nodes and Kafka by N ms each way (--backend
                                   kafka); like --kill host and partition, these run every node on a host of its
                                   own (a network namespace) and need root and iptables
              --data DIR           keep the broker's files here (default: a temp folder, deleted after)
              --seed N             random seed for the kill moments
              --json               print the report as JSON
            exit status: 0 pass, 1 fail, 2 bad arguments
            """;

    public static DrillOptions parse(List<String> argv) {
        Args a = new Args(argv, Set.of("broker-jar", "cycles", "producers", "consumers", "queues", "min-uptime",
                "max-uptime", "corrupt", "fsync", "data", "seed", "backend", "kill", "loss", "delay-ms", "subscriptions"),
                Set.of("json"));
        Backend backend = choice(Backend.class, "backend", a.string("backend", "chronicle"));
        Kill kill = choice(Kill.class, "kill", a.string("kill", "node"));
        if (kill == Kill.BROKER && backend != Backend.KAFKA) {
            throw new IllegalArgumentException("--kill broker needs --backend kafka (it kills a Kafka node)");
        }
        if (kill.cutsNetwork() && backend != Backend.KAFKA) {
            throw new IllegalArgumentException("--kill " + kill.name().toLowerCase(Locale.ROOT) + " needs --backend"
                    + " kafka (it cuts one of two Spool nodes off while the other serves)");
        }
        if (backend == Backend.KAFKA && !a.string("corrupt", "none").equals("none")) {
            throw new IllegalArgumentException("--corrupt damages journal files; a Spool node on Kafka keeps none");
        }
        Corruption c;
        try {
            c = Corruption.valueOf(a.string("corrupt", "none").toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--corrupt must be none, checkpoint or journal-tail, was '"
                    + a.string("corrupt", "") + "'");
        }
        Duration min = a.duration("min-uptime", Duration.ofSeconds(1));
        Duration max = a.duration("max-uptime", Duration.ofSeconds(3));
        if (max.compareTo(min) < 0) {
            throw new IllegalArgumentException("--max-uptime must not be below --min-uptime");
        }
        String fsync = a.string("fsync", "none");
        if (!Set.of("none", "interval", "always").contains(fsync)) {
            throw new IllegalArgumentException("--fsync must be none, interval or always, was '" + fsync + "'");
        }
        String data = a.string("data", null);
        double loss;
        try {
            loss = Double.parseDouble(a.string("loss", "0"));
        } catch (NumberFormatException e) {
            loss = -1;
        }
        if (!(loss >= 0 && loss <= 0.5)) {
            throw new IllegalArgumentException("--loss must be a probability from 0 to 0.5, was '" + a.string("loss", "")
                    + "'");
        }
        int delayMs = (int) Math.min(a.nonNegativeLong("delay-ms", 0), 10_000);
        if (delayMs > 0 && backend != Backend.KAFKA) {
            throw new IllegalArgumentException("--delay-ms delays traffic between Spool nodes and Kafka: it needs"
                    + " --backend kafka");
        }
        int subscriptions = (int) Math.min(a.nonNegativeLong("subscriptions", 0), 16);
        if (subscriptions > 0 && backend != Backend.CHRONICLE) {
            throw new IllegalArgumentException("--subscriptions needs --backend chronicle: the Kafka backend has no "
                    + "subscriptions yet");
        }
        return new DrillOptions(Path.of(a.string("broker-jar", "broker/target/spool-broker.jar")),
                a.positiveInt("cycles", 5), a.positiveInt("producers", 4), a.positiveInt("consumers", 2),
                a.positiveInt("queues", 2), min, max, c, fsync, data == null ? null : Path.of(data), a.flag("json"),
                a.nonNegativeLong("seed", System.nanoTime()), backend, kill, loss, delayMs, subscriptions);
    }

    private static <E extends Enum<E>> E choice(Class<E> type, String option, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + option + " must be one of "
                    + java.util.Arrays.stream(type.getEnumConstants()).map(x -> x.name().toLowerCase(Locale.ROOT)).toList()
                    + ", was '" + value + "'");
        }
    }
}
