package dev.spool.storage;

/** Chronicle's process-wide switches, set before any Chronicle class is initialised. */
final class ChronicleSettings {
    private ChronicleSettings() {
    }

    static void apply() {
        // No sales banner in our logs and no usage analytics sent anywhere (the artifact is also excluded).
        System.setProperty("chronicle.announcer.disable", "true");
        System.setProperty("chronicle.analytics.disable", "true");
    }
}
