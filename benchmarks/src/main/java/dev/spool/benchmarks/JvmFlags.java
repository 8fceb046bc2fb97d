package dev.spool.benchmarks;

/** The flags every forked benchmark JVM needs: Chronicle's module openings, quiet Chronicle, fixed heap. */
final class JvmFlags {
    static final String OPENS = "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED";
    static final String EXPORTS_NIO = "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED";
    static final String EXPORTS_REF = "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED";
    static final String EXPORTS_UTIL = "--add-exports=java.base/jdk.internal.util=ALL-UNNAMED";
    static final String NO_BANNER = "-Dchronicle.announcer.disable=true";
    static final String NO_ANALYTICS = "-Dchronicle.analytics.disable=true";
    static final String HEAP_MIN = "-Xms1g";
    static final String HEAP_MAX = "-Xmx1g";

    private JvmFlags() {
    }
}
