package dev.spool.broker;

import dev.spool.broker.audit.AuditEvent;
import dev.spool.broker.audit.AuditLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing the audit log while its writer is stuck in a write (the file is a named pipe nobody reads: a disk
 * that stopped answering). Close must come back; the writer, once its write returns, drops the rest, counts it,
 * and closes the file itself: nothing is written to a stream after it was closed, and every line is whole.
 */
@Timeout(120)
class AuditStuckWriterTest {
    @TempDir
    Path dir;

    @Test
    void closeShouldReturnWhileTheWriterIsStuckAndTheWriterShouldCloseTheFileAfterItsWrite() throws Exception {
        Path fifo = dir.resolve("audit.log");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor());
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            // A reader must hold the pipe open for the log to open it; it reads nothing until told.
            CompletableFuture<Void> go = new CompletableFuture<>();
            Future<long[]> reader = pool.submit(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(new FileInputStream(fifo.toFile()),
                        StandardCharsets.UTF_8))) {
                    go.join();
                    long lines = 0;
                    long broken = 0;
                    String l;
                    while ((l = r.readLine()) != null) { // ends when the writer closes the pipe
                        lines++;
                        broken += l.startsWith("{\"time\":") && l.endsWith("}") ? 0 : 1;
                    }
                    return new long[]{lines, broken};
                }
            });
            AuditLog log = new AuditLog(fifo);
            String body = "x".repeat(1000);
            for (int i = 0; i < 20_000; i++) { // about 20 MB: far more than the pipe and the stream's buffer hold
                log.record(new AuditEvent(System.currentTimeMillis(), new InetSocketAddress("127.0.0.1", 1), "h", 1,
                        "POST", "/queues/q/messages", 201, 0.1, "u", 2, List.of(), null, body));
            }
            Future<?> closed = pool.submit(log::close);
            closed.get(60, TimeUnit.SECONDS); // returns though the writer is blocked in write()
            go.complete(null);
            long[] read = reader.get(60, TimeUnit.SECONDS); // the writer closed the pipe once its write returned
            assertTrue(log.dropped() > 0, "what was not written is counted as dropped");
            assertEquals(0, read[1], "every line whole");
            assertEquals(log.written(), read[0], "every counted line is in the file");
            assertEquals(20_000, log.written() + log.dropped(), "each event written or dropped, none twice");
        } finally {
            pool.shutdownNow();
        }
    }
}
