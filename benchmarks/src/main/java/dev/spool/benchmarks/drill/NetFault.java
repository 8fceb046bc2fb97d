package dev.spool.benchmarks.drill;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network faults on this machine, made with iptables: a Spool node runs as a user of its own ({@link #runAs}), and
 * {@link #cut} drops every packet that user's processes send (to Kafka, to the other nodes, answers to clients) and
 * every packet sent to the node's HTTP port. Dropped, not refused: a client's or another node's connect times out,
 * as when a host is down or cut off by a partition, and the node's Kafka clients see the brokers go silent. All
 * rules live in one chain of this process, hooked into OUTPUT (every loopback packet passes it), and go with
 * {@link #close}.
 */
final class NetFault implements AutoCloseable {
    /** The first of the uids the drill's Spool nodes run as (one each) when network faults are asked for. */
    static final int FIRST_UID = 64_001;
    private final String chain = "SPOOL_DRILL_" + ProcessHandle.current().pid();
    private boolean hooked;

    /** Why network faults cannot be made here (not root, no iptables, no owner match), or null if they can. */
    static String unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network faults need root (iptables, and running a node as another user)";
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/iptables")) && !Files.isExecutable(Path.of("/sbin/iptables"))) {
            return "network faults need iptables (Debian package iptables)";
        }
        if (!Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            return "network faults need setpriv (Debian package util-linux) to run a node as another user";
        }
        try {
            Result r = run(List.of("iptables", "-w", "-L", "OUTPUT", "-n"));
            return r.status == 0 ? null : "iptables does not work here: " + r.output.strip();
        } catch (IOException e) {
            return "iptables does not run here: " + e.getMessage();
        }
    }

    /** The command prefix that runs a program as {@code uid}, without any other group. */
    static List<String> runAs(int uid) {
        return List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--");
    }

    /** Gives {@code dir} (recursively) to {@code uid}, and lets everyone through its parents. */
    static void handOver(Path dir, int uid) throws IOException {
        check(run(List.of("chown", "-R", uid + ":" + uid, dir.toString())), "chown");
        openParents(dir);
    }

    /** Lets every user through the folders above {@code path}, so another user can reach it. */
    static void openParents(Path path) throws IOException {
        for (Path p = path.getParent(); p != null; p = p.getParent()) {
            if (p.equals(Path.of("/"))) {
                break;
            }
            check(run(List.of("chmod", "o+x", p.toString())), "chmod");
        }
    }

    /** Drops what the node running as {@code uid} sends and what is sent to its HTTP {@code port}. */
    void cut(int uid, int port) throws IOException {
        if (!hooked) {
            check(run(List.of("iptables", "-w", "-N", chain)), "iptables -N");
            check(run(List.of("iptables", "-w", "-I", "OUTPUT", "-j", chain)), "iptables -I OUTPUT");
            hooked = true;
        }
        check(run(List.of("iptables", "-w", "-A", chain, "-p", "tcp", "--dport", Integer.toString(port), "-j", "DROP")),
                "iptables (port)");
        check(run(List.of("iptables", "-w", "-A", chain, "-m", "owner", "--uid-owner", Integer.toString(uid),
                "-j", "DROP")), "iptables (owner)");
    }

    /** Fails unless a connect to {@code port} now times out (the cut took: dropped, not refused or answered). */
    static void assertUnreachable(int port) throws IOException {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
            throw new IOException("the cut did not take: port " + port + " still accepts connections");
        } catch (java.net.SocketTimeoutException expected) {
            // dropped, as a host that is down or cut off
        }
    }

    /** Lets everything through again. */
    void heal() throws IOException {
        if (hooked) {
            check(run(List.of("iptables", "-w", "-F", chain)), "iptables -F");
        }
    }

    @Override
    public void close() throws IOException {
        if (hooked) {
            heal();
            run(List.of("iptables", "-w", "-D", "OUTPUT", "-j", chain));
            run(List.of("iptables", "-w", "-X", chain));
            hooked = false;
        }
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
