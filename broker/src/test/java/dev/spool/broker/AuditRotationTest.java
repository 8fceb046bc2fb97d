package dev.spool.broker;

import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10, bounded audit log: size rotation, compressed rotated files, a retention cap, nothing lost or doubled. */
@Timeout(120)
class AuditRotationTest {
    private static final int THREADS = 8;
    private static final int PUSHES = 50;

    @TempDir
    Path dir;

    /** Pushes THREADS x PUSHES messages at once, each with a unique marker; returns the markers. */
    private static List<String> pushConcurrently(TestBroker b) throws Exception {
        assertEquals(201, b.admin("POST", "/queues/q", "{\"max_length\":100000}").statusCode());
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<List<String>>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
                List<String> markers = new ArrayList<>();
                for (int i = 0; i < PUSHES; i++) {
                    String marker = "marker-" + thread + "-" + i;
                    assertEquals(201, b.as(Role.AGENT, "POST", "/queues/q/messages",
                            "{\"body\":{\"m\":\"" + marker + "\"}}").statusCode());
                    markers.add(marker);
                }
                return markers;
            }));
        }
        List<String> all = new ArrayList<>();
        for (Future<List<String>> f : futures) {
            all.addAll(f.get());
        }
        pool.shutdown();
        return all;
    }

    private List<Path> auditFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("message_queue.log")).sorted().toList();
        }
    }

    /** A file's text: .gz read in this JVM, .zst by the system's zstd (which wrote it). */
    private static String text(Path p) throws IOException {
        if (p.toString().endsWith(".zst")) {
            Process z = new ProcessBuilder("zstd", "-d", "-c", "-q", p.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String t = new String(z.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                assertEquals(0, z.waitFor(), "zstd -d " + p);
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            return t;
        }
        try (InputStream in = p.toString().endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(p))
                : Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Whether the zstd program runs on this machine. */
    static boolean zstdRuns() {
        try {
            Process p = new ProcessBuilder("zstd", "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * audit.compress true (the default) compresses with zstd where it is installed, else gzip; zstd where it is not
     * installed falls back to gzip; gzip is gzip. Whichever, every request is in exactly one file.
     */
    @ParameterizedTest(name = "audit.compress: {0}")
    @ValueSource(strings = {"true", "zstd", "gzip"})
    void everyRequestShouldAppearExactlyOnceAcrossRotatedAndCurrentFiles(String compress) throws Exception {
        List<String> markers;
        try (TestBroker b = new TestBroker(dir, "audit.max_file_bytes: 4096\naudit.max_files: 100000\naudit.compress: "
                + compress + "\n", Clock.systemUTC())) {
            markers = pushConcurrently(b);
        } // closing waits for the writer and the compressor
        List<Path> files = auditFiles();
        long rotated = files.stream().filter(p -> !p.getFileName().toString().equals("message_queue.log")).count();
        assertTrue(rotated >= 20, "rotated many times at 4 KiB: " + files.size() + " files");
        String ext = !compress.equals("gzip") && zstdRuns() ? ".zst" : ".gz";
        if (!zstdRuns() && !compress.equals("gzip")) {
            System.out.println("AuditRotationTest: no zstd program here, so audit.compress: " + compress
                    + " is checked falling back to gzip");
        }
        assertTrue(files.stream().filter(p -> !p.getFileName().toString().equals("message_queue.log"))
                .allMatch(p -> p.toString().endsWith(ext)), "every rotated file compressed to " + ext + ": " + files);
        Map<String, Integer> seen = new HashMap<>();
        for (Path p : files) {
            String t = text(p);
            assertTrue(t.length() <= 4096, p + " holds " + t.length() + " bytes");
            for (String line : t.split("\n")) {
                TestBroker.JSON.readTree(line); // whole lines only
                int at = line.indexOf("marker-");
                if (at >= 0) {
                    seen.merge(line.substring(at, line.indexOf('"', at)), 1, Integer::sum);
                }
            }
        }
        for (String m : markers) {
            assertEquals(1, seen.getOrDefault(m, 0), m + " logged exactly once");
        }
        assertEquals(markers.size(), seen.size());
    }

    @Test
    void withoutCompressionRotatedFilesShouldStayPlainAndBounded() throws Exception {
        try (TestBroker b = new TestBroker(dir, "audit.max_file_bytes: 4096\naudit.max_files: 2\naudit.compress: false\n",
                Clock.systemUTC())) {
            pushConcurrently(b);
        }
        List<Path> files = auditFiles();
        assertEquals(3, files.size(), "the current file and 2 rotated ones: " + files);
        assertTrue(files.stream().noneMatch(p -> p.toString().endsWith(".gz") || p.toString().endsWith(".zst")),
                files.toString());
        for (Path p : files) {
            assertTrue(Files.size(p) <= 4096, p + ": " + Files.size(p));
        }
    }

    @Test
    void rotatedFilesShouldBeNumberedOnAcrossRestartsWhateverTheClockSays() throws Exception {
        String config = "audit.max_file_bytes: 4096\naudit.max_files: 100000\n";
        try (TestBroker b = new TestBroker(dir, config, Clock.systemUTC())) {
            pushConcurrently(b);
        }
        java.util.Set<Path> first = new java.util.HashSet<>(auditFiles());
        long lastOfFirst = first.stream().mapToLong(AuditRotationTest::sequence).max().orElseThrow();
        try (TestBroker b = new TestBroker(dir, config, Clock.systemUTC())) {
            assertEquals(201, b.admin("POST", "/queues/q2", null).statusCode());
            for (int i = 0; i < 40; i++) {
                assertEquals(201, b.as(Role.AGENT, "POST", "/queues/q2/messages", "{\"body\":{\"i\":" + i + "}}")
                        .statusCode());
            }
        }
        List<Path> added = auditFiles().stream().filter(p -> !first.contains(p) && sequence(p) >= 0).toList();
        assertTrue(added.size() >= 2, "the second run rotated too: " + added);
        for (Path p : added) {
            assertTrue(sequence(p) > lastOfFirst, p + " is numbered after " + lastOfFirst);
        }
    }

    /** A rotated file's sequence number, or -1 for the current file. */
    private static long sequence(Path p) {
        String n = p.getFileName().toString();
        if (n.equals("message_queue.log")) {
            return -1;
        }
        String rest = n.substring("message_queue.log.".length());
        return Long.parseLong(rest.substring(0, rest.indexOf('-')));
    }

    @Test
    void theAuditFilesShouldStayWithinTheirBound() throws Exception {
        try (TestBroker b = new TestBroker(dir, "audit.max_file_bytes: 4096\naudit.max_files: 3\n", Clock.systemUTC())) {
            pushConcurrently(b);
        }
        List<Path> files = auditFiles();
        assertTrue(files.size() <= 1 + 3, "the current file and at most 3 rotated ones: " + files);
        long total = 0;
        for (Path p : files) {
            total += Files.size(p);
        }
        assertTrue(total <= 4 * 4096, "at most (max_files + 1) x max_file_bytes on disk: " + total);
    }
}
