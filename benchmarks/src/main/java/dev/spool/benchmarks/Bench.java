package dev.spool.benchmarks;

import dev.spool.storage.journal.ChronicleSettings;

import dev.spool.benchmarks.drill.Drill;
import dev.spool.benchmarks.load.LoadTool;

import java.util.Arrays;
import java.util.List;

/**
 * {@code java -jar spool-bench.jar load ...} runs the load generator, {@code drill ...} the
 * crash-restart drill, {@code kafka ...} a local Kafka cluster, {@code floor ...} a bare Undertow answering the peer
 * harness's Spool calls ({@link UndertowFloor}); anything else goes to JMH ({@code -h} for its
 * options).
 */
public final class Bench {
    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        ChronicleSettings.apply();
        List<String> rest = Arrays.asList(args).subList(Math.min(1, args.length), args.length);
        String tool = args.length == 0 ? "" : args[0];
        switch (tool) {
            case "load" -> System.exit(LoadTool.run(rest, System.out, System.err));
            case "drill" -> System.exit(Drill.run(rest, System.out, System.err));
            case "kafka" -> System.exit(LocalKafka.run(rest, System.out, System.err));
            case "floor" -> System.exit(UndertowFloor.run(rest, System.out));
            case "jmh" -> org.openjdk.jmh.Main.main(withChronicleFlags(rest));
            default -> org.openjdk.jmh.Main.main(withChronicleFlags(Arrays.asList(args)));
        }
    }

    /** JMH's arguments with Chronicle's JVM flags put before every fork's own (their one home is the pom). */
    private static String[] withChronicleFlags(List<String> args) {
        List<String> all = new java.util.ArrayList<>(List.of("-jvmArgsPrepend",
                String.join(" ", ChronicleSettings.jvmFlags())));
        all.addAll(args);
        return all.toArray(String[]::new);
    }
}
