package dev.spool.benchmarks;

/**
 * The heap every forked benchmark JVM gets. Chronicle's flags are not here: {@link Bench} adds them to
 * every fork from their one home (see {@code ChronicleSettings}).
 */
final class JvmFlags {
    static final String HEAP_MIN = "-Xms1g";
    static final String HEAP_MAX = "-Xmx1g";

    private JvmFlags() {
    }
}
