package dev.spool.storage.journal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * Chronicle's JVM flags and process-wide switches. Their one home is the parent pom's properties
 * ({@code chronicle.jvm.flags}, {@code chronicle.quiet.flags}), which also feed Surefire and the jar
 * manifests; this class reads them from a resource Maven fills in, for child JVMs, benchmark forks and
 * the switches a process sets on itself.
 */
public final class ChronicleSettings {
    private static final Properties FLAGS = load();

    private ChronicleSettings() {
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = ChronicleSettings.class.getResourceAsStream("chronicle.properties")) {
            if (in == null) {
                throw new IllegalStateException("chronicle.properties is missing from the storage jar");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    private static List<String> split(String key) {
        return Arrays.stream(FLAGS.getProperty(key, "").trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    /** Every flag a JVM running Chronicle is started with: module openings, then the quiet switches. */
    public static List<String> jvmFlags() {
        List<String> all = new ArrayList<>(split("jvm.flags"));
        all.addAll(split("quiet.flags"));
        return all;
    }

    /**
     * Sets the quiet switches (no banner in the logs, no usage analytics sent anywhere; the artifact is also
     * excluded) on this process. Call before any Chronicle class is initialised.
     */
    public static void apply() {
        for (String flag : split("quiet.flags")) {
            String kv = flag.substring(2);
            int eq = kv.indexOf('=');
            System.setProperty(kv.substring(0, eq), kv.substring(eq + 1));
        }
    }
}
