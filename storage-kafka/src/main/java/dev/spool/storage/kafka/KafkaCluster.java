package dev.spool.storage.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/**
 * Real Apache Kafka 4.4 KRaft nodes (combined broker and controller) on this machine, each a child JVM started
 * from the Kafka jars on this JVM's class path ({@code org.apache.kafka:kafka_2.13}, which the tests and
 * {@code spool-bench.jar} carry): {@code StorageTool format}, then {@code kafka.Kafka}. No Docker, no download.
 * The tests, the crash drill and {@code spool-bench.jar kafka} (a local cluster for trying cluster mode) use it.
 * Each node's heap is capped at 384 MiB; its log is {@code <dir>/node<i>/broker.log}. This class itself needs
 * only {@code kafka-clients}.
 */
public final class KafkaCluster implements AutoCloseable {
    private static KafkaCluster shared;

    private final Path dir;
    private final int[] brokerPorts;
    private final int[] controllerPorts;
    private final Process[] nodes;
    /** Broker properties that replace or add to the defaults (a test of a badly set-up cluster). */
    private Map<String, String> overrides = Map.of();
    /** Where the nodes run: on this host's loopback (null), or each on a host of its own. */
    private Placement placement;
    /** Nodes JIT-compiled in full, with G1 and 1 GiB of heap, as Kafka runs in production (benchmarks). */
    private boolean fullJvm;

    /**
     * Nodes on hosts of their own (network namespaces, for network faults): node {@code i} listens on
     * {@code hosts[i]}, port {@value #PLACED_PORT} for clients and {@value #PLACED_PORT} + 1 for its controllers, and
     * runs through the command {@code prefixes[i]} (such as {@code ip netns exec NAME}). If {@code delayed} is not
     * null, node {@code i} has a second client listener, {@code DELAYED}, on port {@value #PLACED_PORT} + 2, that it
     * advertises as {@code delayed[i]} (a proxy that delays what passes through it): a client that bootstraps from
     * {@link #delayedBootstrap} reaches every node through its proxy.
     */
    public record Placement(List<String> hosts, List<List<String>> prefixes, List<String> delayed) {
    }

    /** The client port of a node on a host of its own. */
    public static final int PLACED_PORT = 9092;

    private KafkaCluster(Path dir, int n) {
        this.dir = dir;
        this.brokerPorts = new int[n];
        this.controllerPorts = new int[n];
        this.nodes = new Process[n];
    }

    /** One node shared by every test of this JVM (started once, stopped at exit). */
    public static synchronized KafkaCluster shared() throws Exception {
        if (shared == null) {
            Path d = Files.createTempDirectory("spool-kafka");
            shared = start(d, 1);
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
        }
        return shared;
    }

    /** Formats and starts {@code n} nodes under {@code dir} on free ports; returns when the cluster answers. */
    public static KafkaCluster start(Path dir, int n) throws Exception {
        return start(dir, n, 0);
    }

    /**
     * Starts {@code n} nodes under {@code dir}: node {@code i} (from 0) listens for clients on
     * {@code basePort + i} and for its controllers on {@code basePort + 100 + i}, or on free ports if
     * {@code basePort} is 0. A folder formatted by an earlier run is started again as it is (same ports).
     * Returns when the cluster answers.
     */
    public static KafkaCluster start(Path dir, int n, int basePort) throws Exception {
        return start(dir, n, basePort, Map.of());
    }

    /** As {@link #start(Path, int, int)}, with these broker properties in place of the defaults. */
    public static KafkaCluster start(Path dir, int n, int basePort, Map<String, String> overrides) throws Exception {
        return start(dir, n, basePort, overrides, null, false);
    }

    /**
     * As {@link #start(Path, int, int)}, each node's JVM as Kafka runs in production: JIT-compiled in full, G1, 1 GiB
     * of heap (the tests' nodes stop at the first JIT tier and use 384 MiB with the serial collector, to start fast
     * and stay small, and spend several times the CPU per request).
     */
    public static KafkaCluster startFull(Path dir, int n, int basePort) throws Exception {
        return start(dir, n, basePort, Map.of(), null, true);
    }

    /** Starts one node per host of {@code placement} under {@code dir}. */
    public static KafkaCluster start(Path dir, Placement placement) throws Exception {
        return start(dir, placement.hosts().size(), PLACED_PORT, Map.of(), placement, false);
    }

    private static KafkaCluster start(Path dir, int n, int basePort, Map<String, String> overrides,
                                      Placement placement, boolean fullJvm) throws Exception {
        KafkaCluster c = new KafkaCluster(dir, n);
        c.fullJvm = fullJvm;
        c.overrides = Map.copyOf(overrides);
        c.placement = placement;
        StringJoiner voters = new StringJoiner(",");
        for (int i = 0; i < n; i++) {
            if (placement != null) {
                c.brokerPorts[i] = PLACED_PORT;
                c.controllerPorts[i] = PLACED_PORT + 1;
            } else {
                c.brokerPorts[i] = basePort == 0 ? freePort() : basePort + i;
                c.controllerPorts[i] = basePort == 0 ? freePort() : basePort + 100 + i;
            }
            voters.add((i + 1) + "@" + c.host(i) + ":" + c.controllerPorts[i]);
        }
        String clusterId = Uuid.randomUuid().toString();
        List<Process> formats = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path nd = dir.resolve("node" + (i + 1));
            Files.createDirectories(nd);
            Files.writeString(nd.resolve("server.properties"), c.properties(i, voters.toString(), n));
            if (Files.exists(nd.resolve("data").resolve("meta.properties"))) {
                continue; // formatted by an earlier run
            }
            formats.add(new ProcessBuilder(c.java(i, "256m", "kafka.tools.StorageTool", "format", "-t", clusterId, "-c",
                    nd.resolve("server.properties").toString()))
                    .redirectErrorStream(true).redirectOutput(nd.resolve("format.log").toFile()).start());
        }
        for (int i = 0; i < formats.size(); i++) {
            if (formats.get(i).waitFor() != 0) {
                throw new IllegalStateException("formatting a Kafka node failed: "
                        + Files.readString(dir.resolve("node" + (i + 1)).resolve("format.log")));
            }
        }
        for (int i = 0; i < n; i++) {
            c.startNode(i);
        }
        c.awaitReady(Duration.ofSeconds(120));
        return c;
    }

    private String properties(int i, String voters, int n) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(i + 1));
        p.put("controller.quorum.voters", voters);
        String h = host(i);
        boolean delayed = placement != null && placement.delayed() != null;
        p.put("listeners", "PLAINTEXT://" + h + ":" + brokerPorts[i] + ",CONTROLLER://" + h + ":" + controllerPorts[i]
                + (delayed ? ",DELAYED://" + h + ":" + (PLACED_PORT + 2) : ""));
        p.put("advertised.listeners", "PLAINTEXT://" + h + ":" + brokerPorts[i]
                + (delayed ? ",DELAYED://" + placement.delayed().get(i) : ""));
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
                + (delayed ? ",DELAYED:PLAINTEXT" : ""));
        p.put("log.dirs", dir.resolve("node" + (i + 1)).resolve("data").toString());
        int rf = Math.min(3, n);
        int isr = Math.max(1, rf - 1);
        p.put("offsets.topic.replication.factor", Integer.toString(rf));
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", Integer.toString(rf));
        p.put("transaction.state.log.min.isr", Integer.toString(isr));
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", Integer.toString(rf));
        p.put("share.coordinator.state.topic.min.isr", Integer.toString(isr));
        p.put("share.coordinator.state.topic.num.partitions", "1");
        p.put("num.network.threads", "1");
        p.put("num.io.threads", "2");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("background.threads", "2");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        // What Spool asks of a cluster (README, "Run a cluster"), with short locks so expiry tests take seconds.
        p.put("group.share.min.record.lock.duration.ms", "1000");
        p.put("group.share.max.delivery.count.limit", "25");
        p.put("group.share.min.heartbeat.interval.ms", "500");
        p.put("errors.deadletterqueue.auto.create.topics.enable", "false");
        p.put("replica.lag.time.max.ms", "10000");
        // The log cleaner looks for work every half second rather than every 15 (compaction tests take seconds).
        p.put("log.cleaner.backoff.ms", "500");
        p.putAll(overrides);
        StringBuilder sb = new StringBuilder();
        p.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        return sb.toString();
    }

    private String host(int i) {
        return placement == null ? "localhost" : placement.hosts().get(i);
    }

    private List<String> java(int i, String heap, String main, String... args) {
        List<String> cmd = new ArrayList<>(placement == null ? List.of() : placement.prefixes().get(i));
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(fullJvm ? List.of("-Xms1g", "-Xmx1g", "-XX:+UseG1GC")
                : List.of("-Xms" + heap, "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        cmd.addAll(List.of("-Dlogback.configurationFile=" + logbackConfig(), "-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private String logbackConfig() {
        Path f = dir.resolve("logback-kafka.xml");
        try {
            if (!Files.exists(f)) {
                Files.writeString(f, "<configuration><appender name=\"O\" class=\"ch.qos.logback.core.ConsoleAppender\">"
                        + "<encoder><pattern>%d %-5level %logger{20} %msg%n</pattern></encoder></appender>"
                        + "<root level=\"WARN\"><appender-ref ref=\"O\"/></root></configuration>");
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return f.toString();
    }

    /** Starts (or restarts) node {@code i} (from 0). */
    public void startNode(int i) throws IOException {
        Path nd = dir.resolve("node" + (i + 1));
        nodes[i] = new ProcessBuilder(java(i, "384m", "kafka.Kafka", nd.resolve("server.properties").toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(nd.resolve("broker.log").toFile()))
                .start();
    }

    /** The number of nodes. */
    public int size() {
        return nodes.length;
    }

    /** Whether node {@code i} runs. */
    public boolean isAlive(int i) {
        return nodes[i] != null && nodes[i].isAlive();
    }

    /** The client address of every node, running or not. */
    public String allAddresses() {
        StringJoiner j = new StringJoiner(",");
        for (int i = 0; i < brokerPorts.length; i++) {
            j.add(host(i) + ":" + brokerPorts[i]);
        }
        return j.toString();
    }

    /** The delayed client address (a proxy) of every node, running or not; see {@link Placement}. */
    public String delayedBootstrap() {
        if (placement == null || placement.delayed() == null) {
            throw new IllegalStateException("this cluster has no delayed listener");
        }
        return String.join(",", placement.delayed());
    }

    /** {@code kill -9} of node {@code i}. */
    public void kill(int i) throws InterruptedException {
        nodes[i].destroyForcibly();
        nodes[i].waitFor(30, TimeUnit.SECONDS);
    }

    /** The node id ({@code i + 1}) to index. */
    public int indexOf(int nodeId) {
        return nodeId - 1;
    }

    public String bootstrap() {
        StringJoiner j = new StringJoiner(",");
        for (int i = 0; i < brokerPorts.length; i++) {
            if (nodes[i] != null && nodes[i].isAlive()) {
                j.add(host(i) + ":" + brokerPorts[i]);
            }
        }
        return j.toString();
    }

    public Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", bootstrap(), "request.timeout.ms", 5000,
                "default.api.timeout.ms", 10000));
    }

    /** Waits until every running node is in the cluster again (after {@link #startNode}). */
    public void awaitReady(Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        try (Admin a = admin()) {
            while (true) {
                for (int i = 0; i < nodes.length; i++) {
                    if (!nodes[i].isAlive()) {
                        throw new IllegalStateException("Kafka node " + (i + 1) + " died; see "
                                + dir.resolve("node" + (i + 1)).resolve("broker.log") + ":\n"
                                + tail(dir.resolve("node" + (i + 1)).resolve("broker.log")));
                    }
                }
                try {
                    if (a.describeCluster().nodes().get(2, TimeUnit.SECONDS).size() == nodes.length) {
                        return;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Kafka did not start in " + max);
                }
                Thread.sleep(200);
            }
        }
    }

    private static String tail(Path f) {
        try {
            List<String> lines = Files.readAllLines(f);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (Process p : nodes) {
            if (p != null) {
                p.destroy();
            }
        }
        for (Process p : nodes) {
            try {
                if (p != null && !p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
