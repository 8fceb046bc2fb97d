package dev.spool.benchmarks.clients;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 12: runs the Python client's own test suite ({@code clients/python/tests}, stdlib unittest) against brokers
 * it starts from the jar this build just made, so that {@code ./mvnw verify} runs it. Lives in this module because
 * the broker jar is packaged before this module's tests run.
 */
class PythonClientTest {
    @Test
    @Timeout(300)
    void thePythonClientSuiteShouldPass() throws Exception {
        PythonSuite.run("clients/python", "discover", "-v", "-s", "tests", "-t", ".");
    }
}
