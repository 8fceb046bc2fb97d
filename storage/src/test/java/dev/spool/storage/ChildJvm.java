package dev.spool.storage;

import dev.spool.storage.journal.ChronicleSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line of a child JVM on this test's classpath, with Chronicle's flags (crash tests). */
public final class ChildJvm {
    private ChildJvm() {
    }

    public static List<String> command(String mainClass, String... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m"));
        cmd.addAll(ChronicleSettings.jvmFlags());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
