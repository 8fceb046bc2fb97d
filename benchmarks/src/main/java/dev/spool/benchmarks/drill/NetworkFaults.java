package dev.spool.benchmarks.drill;

import dev.spool.storage.kafka.KafkaCluster;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The drill's cluster on hosts of its own ({@link NetFault}): each Kafka node ({@code k1} to {@code k3}) and each
 * Spool node ({@code a}, {@code b}) in a network namespace with an address of its own, the drill's clients on the
 * bridge. With {@code --delay-ms} every byte between a Spool node and Kafka passes a {@link DelayProxy} (one per
 * Kafka node, reached through its {@code DELAYED} listener); with {@code --loss} a share of every Spool node's
 * packets is dropped. {@code --kill host} drops everything in and out of a Spool node's host, {@code --kill
 * partition} everything but its exchanges with its clients.
 */
final class NetworkFaults implements AutoCloseable {
    private final DrillOptions o;
    private final NetFault net;
    private final List<DelayProxy> proxies = new ArrayList<>();
    private final List<String> nodeAddresses = new ArrayList<>();

    private NetworkFaults(DrillOptions o, NetFault net) {
        this.o = o;
        this.net = net;
    }

    /** Whether the drill runs on hosts of its own: network kills, loss or delay. */
    static boolean wanted(DrillOptions o) {
        return o.kill().cutsNetwork() || o.loss() > 0 || o.delayMs() > 0;
    }

    /** The bridge, or an exception saying why hosts of their own cannot be made here. */
    static NetworkFaults open(DrillOptions o) throws IOException {
        String why = NetFault.unavailable();
        if (why != null) {
            throw new IOException("network faults (--kill " + o.kill().name().toLowerCase(Locale.ROOT)
                    + ", --loss, --delay-ms): " + why);
        }
        return new NetworkFaults(o, new NetFault());
    }

    /** Three Kafka nodes, each on a host of its own (behind a delay proxy if asked for). */
    KafkaCluster startKafka(Path dir) throws Exception {
        List<String> hosts = new ArrayList<>();
        List<List<String>> prefixes = new ArrayList<>();
        List<String> delayed = o.delayMs() > 0 ? new ArrayList<>() : null;
        for (int i = 1; i <= 3; i++) {
            String address = net.host("k" + i);
            hosts.add(address);
            prefixes.add(net.exec("k" + i));
            if (delayed != null) {
                DelayProxy p = new DelayProxy(net.here(), 0,
                        new InetSocketAddress(address, KafkaCluster.PLACED_PORT + 2), o.delayMs());
                proxies.add(p);
                delayed.add(net.here() + ":" + p.port());
            }
        }
        return KafkaCluster.start(Files.createDirectories(dir), new KafkaCluster.Placement(hosts, prefixes, delayed));
    }

    /** Makes Spool node {@code i}'s host (lossy if asked for) and returns its address. */
    String nodeHost(int i) throws IOException {
        String address = net.host(name(i));
        if (o.loss() > 0) {
            net.loss(name(i), o.loss());
        }
        nodeAddresses.add(address);
        return address;
    }

    /** The command prefix that runs Spool node {@code i} on its host. */
    List<String> prefix(int i) {
        return net.exec(name(i));
    }

    /** Where the Spool nodes find Kafka: the nodes themselves, or their delay proxies. */
    String bootstrap(KafkaCluster kafka) {
        return o.delayMs() > 0 ? kafka.delayedBootstrap() : kafka.allAddresses();
    }

    /**
     * Takes Spool node {@code i}'s host down (kill host) or cuts it off from Kafka and the other node while its
     * clients still reach it on {@code port} (kill partition), and checks that the fault took.
     */
    void cut(int i, int port) throws IOException {
        boolean partition = o.kill() == DrillOptions.Kill.PARTITION;
        net.cut(name(i), partition ? port : null);
        if (partition) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(nodeAddresses.get(i), port), 2_000); // its clients still reach it
            }
        } else {
            NetFault.assertUnreachable(nodeAddresses.get(i), port);
        }
    }

    void heal(int i) throws IOException {
        net.heal(name(i));
    }

    /** The bytes that passed the delay proxies so far (0 without --delay-ms). */
    long delayedBytes() {
        return proxies.stream().mapToLong(DelayProxy::bytesPassed).sum();
    }

    /** The packets --loss has dropped so far on the Spool nodes' hosts. */
    long droppedPackets() throws IOException {
        long total = 0;
        for (int i = 0; i < nodeAddresses.size(); i++) {
            total += net.lossDrops(name(i));
        }
        return total;
    }

    /** Ends --loss on every Spool node's host. */
    void endLoss() throws IOException {
        for (int i = 0; i < nodeAddresses.size(); i++) {
            net.endLoss(name(i));
        }
    }

    private static String name(int i) {
        return String.valueOf((char) ('a' + i));
    }

    /** Stops the proxies and deletes the hosts (their programs must have ended). */
    @Override
    public void close() throws IOException {
        for (DelayProxy p : proxies) {
            p.close();
        }
        net.close();
    }
}
