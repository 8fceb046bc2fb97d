package dev.spool.benchmarks;

import dev.spool.storage.kafka.KafkaCluster;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code spool-bench.jar kafka}: a Kafka 4.4 cluster of KRaft nodes on this machine, each its own JVM, for
 * trying cluster mode without installing Kafka and for benchmarks (so each node's JVM runs as Kafka's would in
 * production: full JIT, G1, 1 GiB of heap). Runs until interrupted (Ctrl-C), then stops the nodes.
 */
public final class LocalKafka {
    static final String USAGE = """
            usage: spool-bench.jar kafka [options]
              --nodes N     KRaft nodes, each broker and controller (default 3)
              --port P      node i listens for clients on P+i, for controllers on P+100+i (default 9092)
              --dir DIR     the nodes' data and logs; started again as it is on the next run (default kafka-local)
            """;

    private LocalKafka() {
    }

    public static int run(List<String> argv, PrintStream out, PrintStream err) {
        Args a;
        int nodes;
        int port;
        try {
            a = new Args(argv, Set.of("nodes", "port", "dir"), Set.of());
            nodes = a.positiveInt("nodes", 3);
            port = a.positiveInt("port", 9092);
            if (nodes > 9 || port > 65_000) {
                throw new IllegalArgumentException("--nodes must be at most 9 and --port at most 65000");
            }
        } catch (IllegalArgumentException e) {
            err.println("kafka: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        Path dir = Path.of(a.string("dir", "kafka-local")).toAbsolutePath();
        out.printf("starting %d Kafka node(s) under %s ...%n", nodes, dir);
        KafkaCluster cluster;
        try {
            cluster = KafkaCluster.startFull(dir, nodes, port); // JVMs as in production: benchmarks run on these
        } catch (Exception e) {
            err.println("kafka: the cluster did not start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cluster.close();
            stopped.countDown();
        }));
        out.println("Kafka is up. In a Spool node's config.yaml:");
        out.println("  storage:");
        out.println("    backend: kafka");
        out.println("  kafka:");
        out.println("    bootstrap_servers: \"" + cluster.allAddresses() + "\"");
        if (nodes < 3) { // queues need kafka.replication_factor brokers (3 by default)
            out.println("    replication_factor: " + nodes);
            out.println("    min_insync_replicas: " + Math.max(1, nodes - 1));
        }
        out.println("Logs: " + dir.resolve("node1").resolve("broker.log") + " (and node2, ...). Ctrl-C stops the cluster.");
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
