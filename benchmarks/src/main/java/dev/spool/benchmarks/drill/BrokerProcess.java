package dev.spool.benchmarks.drill;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** The broker jar as a child process; {@link #start} returns once it listens. */
final class BrokerProcess {
    private final Process process;
    private final long readyMillis;
    private final StringBuffer output;

    private BrokerProcess(Process process, long readyMillis, StringBuffer output) {
        this.process = process;
        this.readyMillis = readyMillis;
        this.output = output;
    }

    static BrokerProcess start(Path jar, Path config) throws IOException {
        return start(jar, config, List.of());
    }

    /** As {@link #start(Path, Path)}, the command run through {@code prefix} (for example on a host of its own). */
    static BrokerProcess start(Path jar, Path config, List<String> prefix) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        long t0 = System.nanoTime();
        List<String> command = new java.util.ArrayList<>(prefix);
        command.addAll(List.of(java, "-Xmx512m", "-jar", jar.toString(), "--config", config.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        StringBuffer output = new StringBuffer();
        CompletableFuture<Long> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.append(line).append('\n');
                    if (line.contains("listening on http://")) {
                        ready.complete((System.nanoTime() - t0) / 1_000_000);
                    }
                }
            } catch (IOException ignored) {
                // The process was killed: its output ends here.
            }
            ready.completeExceptionally(new IOException("broker exited before listening:\n" + output));
        }, "broker-output");
        reader.setDaemon(true);
        reader.start();
        try {
            return new BrokerProcess(p, ready.get(60, TimeUnit.SECONDS), output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted while the broker started", e);
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly();
            throw new IOException("broker did not start: " + e.getMessage() + "\n" + output, e);
        }
    }

    /** Milliseconds from launching the JVM to the broker listening (JVM start plus recovery). */
    long readyMillis() {
        return readyMillis;
    }

    String output() {
        return output.toString();
    }

    /** SIGKILL, and wait for the process to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM (clean shutdown), and wait. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
