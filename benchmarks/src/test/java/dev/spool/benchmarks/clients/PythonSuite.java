package dev.spool.benchmarks.clients;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs a Python unittest suite of the repository with the broker jar this build made; fails on a failing suite. */
final class PythonSuite {
    private PythonSuite() {
    }

    /**
     * Runs {@code python3 -m unittest ARGS} in {@code folder} (relative to the repository) and returns its output.
     */
    static String run(String folder, String... args) throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Path jar = repo.resolve("broker/target/spool-broker.jar");
        assertTrue(Files.isRegularFile(jar), "the broker jar is built before this test: " + jar);
        List<String> cmd = new ArrayList<>(List.of("python3", "-m", "unittest"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.resolve(folder).toFile()).redirectErrorStream(true);
        pb.environment().put("SPOOL_BROKER_JAR", jar.toString());
        pb.environment().put("PYTHONWARNINGS", "ignore::ResourceWarning");
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1"); // no __pycache__ left in the tree
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(280, TimeUnit.SECONDS), out);
        System.out.println(out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("\nOK"), out);
        return out;
    }
}
