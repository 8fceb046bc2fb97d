package dev.spool.benchmarks.drill;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Hosts of their own on this machine, for network faults: each is a network namespace joined to a bridge of this
 * process by a veth pair, with an address of its own in a /24 ({@code 10.234.X.0}, the bridge at {@code .1}, where
 * this process, the drill's clients and {@link DelayProxy delay proxies} sit). A program runs on a host through
 * {@link #exec}. Faults are iptables rules inside a host's namespace, on its veth only (its loopback is untouched):
 * {@link #cut} drops every packet in and out, so connects to it time out as when a host is down or cut off;
 * {@link #loss} drops a share of them at random ({@code statistic} match). Everything goes with {@link #close}.
 */
final class NetFault implements AutoCloseable {
    private static final String CUT = "SPOOL_CUT";
    private static final String LOSS = "SPOOL_LOSS";
    private final long pid = ProcessHandle.current().pid();
    private final String bridge = "spb" + (pid % 100_000);
    private final String subnet;
    /** Each host's name, to its namespace's veth end and address. */
    private final Map<String, Host> hosts = new LinkedHashMap<>();
    private boolean bridgeUp;

    private record Host(String namespace, String veth, String address) {
    }

    /** Why hosts of their own cannot be made here (not root, no ip or iptables, no namespaces), or null. */
    static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network faults need root (network namespaces and iptables)";
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/iptables")) && !Files.isExecutable(Path.of("/sbin/iptables"))) {
            return "network faults need iptables (Debian package iptables)";
        }
        String probe = "spool-probe-" + ProcessHandle.current().pid();
        try {
            Result r = run(List.of("ip", "netns", "add", probe));
            if (r.status != 0) {
                return "network namespaces cannot be made here: " + r.output.strip();
            }
            Result t = run(List.of("ip", "netns", "exec", probe, "iptables", "-w", "-L", "INPUT", "-n"));
            run(List.of("ip", "netns", "del", probe));
            return t.status == 0 ? null : "iptables does not work in a network namespace here: " + t.output.strip();
        } catch (IOException e) {
            return "network faults need the ip command (Debian package iproute2): " + e.getMessage();
        }
    }

    NetFault() throws IOException {
        String used = run(List.of("ip", "-4", "-o", "addr")).output;
        int x = (int) (pid % 250);
        while (used.contains(" 10.234." + x + ".")) {
            x = (x + 1) % 250;
        }
        subnet = "10.234." + x + ".";
        check(run(List.of("ip", "link", "add", bridge, "type", "bridge")), "ip link add bridge");
        bridgeUp = true;
        check(run(List.of("ip", "addr", "add", subnet + "1/24", "dev", bridge)), "ip addr add");
        check(run(List.of("ip", "link", "set", bridge, "up")), "ip link set up");
    }

    /** The address of this process (the bridge), where clients and proxies sit. */
    String here() {
        return subnet + "1";
    }

    /** Makes host {@code name} (letters and digits, up to 4) and returns its address. */
    String host(String name) throws IOException {
        String ns = "spool-" + pid + "-" + name;
        String outer = bridge + name;
        String inner = "eth-" + name;
        String address = subnet + (hosts.size() + 2);
        check(run(List.of("ip", "netns", "add", ns)), "ip netns add");
        hosts.put(name, new Host(ns, inner, address));
        check(run(List.of("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)), "ip link add veth");
        check(run(List.of("ip", "link", "set", inner, "netns", ns)), "ip link set netns");
        check(run(List.of("ip", "link", "set", outer, "master", bridge, "up")), "ip link set master");
        inside(name, "ip", "addr", "add", address + "/24", "dev", inner);
        inside(name, "ip", "link", "set", inner, "up");
        inside(name, "ip", "link", "set", "lo", "up");
        for (String chain : List.of(CUT, LOSS)) {
            inside(name, "iptables", "-w", "-N", chain);
            inside(name, "iptables", "-w", "-A", "INPUT", "-j", chain);
            inside(name, "iptables", "-w", "-A", "OUTPUT", "-j", chain);
        }
        return address;
    }

    /** The command prefix that runs a program on host {@code name}. */
    List<String> exec(String name) {
        return List.of("ip", "netns", "exec", hosts.get(name).namespace);
    }

    /**
     * Drops every packet in and out of host {@code name}, except, if {@code clientPort} is not null, its exchanges
     * on that port with this process (its clients still reach it: it is cut off from the other hosts only).
     */
    void cut(String name, Integer clientPort) throws IOException {
        String veth = hosts.get(name).veth;
        if (clientPort != null) {
            inside(name, "iptables", "-w", "-A", CUT, "-i", veth, "-s", here(), "-p", "tcp", "--dport",
                    clientPort.toString(), "-j", "RETURN");
            inside(name, "iptables", "-w", "-A", CUT, "-o", veth, "-d", here(), "-p", "tcp", "--sport",
                    clientPort.toString(), "-j", "RETURN");
        }
        inside(name, "iptables", "-w", "-A", CUT, "-i", veth, "-j", "DROP");
        inside(name, "iptables", "-w", "-A", CUT, "-o", veth, "-j", "DROP");
    }

    /** Ends a {@link #cut} of host {@code name}. */
    void heal(String name) throws IOException {
        inside(name, "iptables", "-w", "-F", CUT);
    }

    /** Drops each packet in and out of host {@code name} with probability {@code p}, from now on. */
    void loss(String name, double p) throws IOException {
        String veth = hosts.get(name).veth;
        String probability = Double.toString(p);
        inside(name, "iptables", "-w", "-A", LOSS, "-i", veth, "-m", "statistic", "--mode", "random",
                "--probability", probability, "-j", "DROP");
        inside(name, "iptables", "-w", "-A", LOSS, "-o", veth, "-m", "statistic", "--mode", "random",
                "--probability", probability, "-j", "DROP");
    }

    /** Ends {@link #loss} on host {@code name} (its count of dropped packets goes with it). */
    void endLoss(String name) throws IOException {
        inside(name, "iptables", "-w", "-F", LOSS);
    }

    /** The packets {@link #loss} has dropped so far on host {@code name}. */
    long lossDrops(String name) throws IOException {
        long total = 0;
        List<String> c = new ArrayList<>(exec(name));
        c.addAll(List.of("iptables", "-w", "-L", LOSS, "-v", "-n", "-x"));
        Result r = run(c);
        check(r, "iptables -L");
        for (String line : r.output.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (line.contains("statistic") && f.length > 2 && f[2].equals("DROP")) {
                total += Long.parseLong(f[0]);
            }
        }
        return total;
    }

    /** Fails unless a connect to {@code address:port} now times out (the cut took: dropped, not refused). */
    static void assertUnreachable(String address, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, port), 500);
            throw new IOException("the cut did not take: " + address + ":" + port + " still accepts connections");
        } catch (SocketTimeoutException expected) {
            // dropped, as a host that is down or cut off
        }
    }

    /** Deletes the hosts (their programs must have ended) and the bridge. */
    @Override
    public void close() throws IOException {
        for (Host h : hosts.values()) {
            run(List.of("ip", "netns", "del", h.namespace)); // takes its veth pair with it
        }
        hosts.clear();
        if (bridgeUp) {
            run(List.of("ip", "link", "del", bridge));
            bridgeUp = false;
        }
    }

    private void inside(String name, String... command) throws IOException {
        List<String> c = new ArrayList<>(exec(name));
        c.addAll(List.of(command));
        check(run(c), String.join(" ", command));
    }

    private record Result(int status, String output) {
    }

    private static void check(Result r, String what) throws IOException {
        if (r.status != 0) {
            throw new IOException(what + " failed (" + r.status + "): " + r.output.strip());
        }
    }

    private static Result run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, String.join(" ", command) + " did not finish in 30 s");
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted running " + command.get(0), e);
        }
    }
}
