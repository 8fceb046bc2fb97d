package dev.spool.benchmarks.clients;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
        String out = PythonSuite.run("examples/fraud-pipeline", "-v", "test_pipeline");
        assertTrue(out.contains("exactly one result per transaction"), out);
    }
}
