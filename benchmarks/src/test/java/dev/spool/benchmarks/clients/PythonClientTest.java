package dev.spool.benchmarks.clients;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12: runs the Python client's own test suite ({@code clients/python/tests}, stdlib unittest) against
 * brokers it starts from the jar this build just made, so that {@code ./mvnw verify} runs it. Lives in this
 * module because the broker jar is packaged before this module's tests run.
 */
class PythonClientTest {
    @Test
    @Timeout(300)
    void thePythonClientSuiteShouldPass() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Path jar = repo.resolve("broker/target/spool-broker.jar");
        assertTrue(Files.isRegularFile(jar), "the broker jar is built before this test: " + jar);
        ProcessBuilder pb = new ProcessBuilder("python3", "-m", "unittest", "discover", "-v",
                "-s", "clients/python/tests", "-t", "clients/python")
                .directory(repo.toFile()).redirectErrorStream(true);
        pb.environment().put("SPOOL_BROKER_JAR", jar.toString());
        pb.environment().put("PYTHONWARNINGS", "ignore::ResourceWarning");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), out);
        System.out.println(out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("\nOK"), out);
    }
}
