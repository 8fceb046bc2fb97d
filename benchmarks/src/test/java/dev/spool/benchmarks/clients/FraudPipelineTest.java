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
 * Issue 12: runs the fraud pipeline's own test ({@code examples/fraud-pipeline/test_pipeline.py}): the model, and
 * a run in which a worker and the broker are killed with SIGKILL midway, ending with exactly one result per
 * transaction. Uses the broker jar this build just made.
 */
class FraudPipelineTest {
    @Test
    @Timeout(300)
    void thePipelineShouldScoreEveryTransactionExactlyOnceThroughItsFailureDrill() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Path jar = repo.resolve("broker/target/spool-broker.jar");
        assertTrue(Files.isRegularFile(jar), "the broker jar is built before this test: " + jar);
        ProcessBuilder pb = new ProcessBuilder("python3", "-m", "unittest", "-v", "test_pipeline")
                .directory(repo.resolve("examples/fraud-pipeline").toFile()).redirectErrorStream(true);
        pb.environment().put("SPOOL_BROKER_JAR", jar.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(280, TimeUnit.SECONDS), out);
        System.out.println(out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("exactly one result per transaction"), out);
    }
}
