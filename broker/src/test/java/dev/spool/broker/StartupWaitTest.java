package dev.spool.broker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that connects while the broker is starting (its port bound, its store and users still opening, here a
 * first start that hashes the new admin's password) waits and is then served: it is never told the broker is
 * starting (the peer harness and other clients log in as soon as the port opens).
 */
@Timeout(60)
class StartupWaitTest {
    @TempDir
    Path dir;

    @Test
    void aClientConnectingDuringStartShouldWaitAndBeServedNotRefused() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Files.writeString(dir.resolve("config.yaml"), "server:\n  port: " + port + "\nQueueManager:\n  path: "
                + dir.resolve("data/queues.json") + "\n");
        CompletableFuture<Broker> started = CompletableFuture.supplyAsync(() -> {
            try {
                return Broker.start(dev.spool.broker.config.ConfigLoader.load(dir.resolve("config.yaml")),
                        new PrintStream(OutputStream.nullOutputStream()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        List<Integer> statuses = new ArrayList<>();
        boolean connectedBeforeReady = false;
        try {
            while (statuses.isEmpty() || statuses.get(statuses.size() - 1) != 200) {
                Socket s;
                try {
                    s = new Socket("127.0.0.1", port);
                } catch (java.net.ConnectException notBoundYet) {
                    Thread.onSpinWait();
                    continue;
                }
                try (s) {
                    connectedBeforeReady |= !started.isDone();
                    s.setSoTimeout(30_000);
                    s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    RawAnswer r = RawAnswer.read(s.getInputStream());
                    statuses.add(r == null ? -1 : r.status());
                }
            }
            assertTrue(connectedBeforeReady, "the test connected only after the start finished; it proves nothing");
            assertEquals(List.of(200), statuses.stream().distinct().toList(), statuses.size() + " answers while "
                    + "starting, the first " + statuses.get(0));
        } finally {
            started.join().close();
        }
    }
}
