package dev.spool.benchmarks;

import dev.spool.benchmarks.drill.Drill;
import dev.spool.benchmarks.load.LoadTool;

import java.util.Arrays;
import java.util.List;

/**
 * {@code java -jar spool-bench.jar load ...} runs the load generator, {@code drill ...} the
 * crash-restart drill; anything else goes to JMH ({@code -h} for its options).
 */
public final class Bench {
    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("chronicle.announcer.disable", "true");
        System.setProperty("chronicle.analytics.disable", "true");
        List<String> rest = Arrays.asList(args).subList(Math.min(1, args.length), args.length);
        String tool = args.length == 0 ? "" : args[0];
        switch (tool) {
            case "load" -> System.exit(LoadTool.run(rest, System.out, System.err));
            case "drill" -> System.exit(Drill.run(rest, System.out, System.err));
            case "jmh" -> org.openjdk.jmh.Main.main(rest.toArray(String[]::new));
            default -> org.openjdk.jmh.Main.main(args);
        }
    }
}
