package dev.spool.broker.http;

import dev.spool.storage.StoreContract;
import io.undertow.Undertow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Long polls on a real Undertow: a wake-up is never spent on a waiter that is no longer there. */
@Timeout(60)
class WaitersTest {
    private final Waiters waiters = new Waiters();
    /** Messages a request may take (a stand-in for the store). */
    private final AtomicInteger available = new AtomicInteger();
    private Undertow server;

    private int start() {
        server = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(ex -> {
            long wait = Long.parseLong(ex.getQueryParameters().get("wait").getFirst());
            waiters.serve(ex, "q", wait, StoreContract.EXACT, d -> CompletableFuture.completedFuture(
                    available.getAndUpdate(n -> n > 0 ? n - 1 : n) > 0
                            ? "\"message\"".getBytes(StandardCharsets.UTF_8) : null), b -> b,
                    "null".getBytes(StandardCharsets.UTF_8));
        }).build();
        server.start();
        return ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private static void awaitWaiting(Waiters w, int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (w.waiting("q") != n) {
            assertTrue(System.nanoTime() < deadline, "never " + n + " waiting: " + w.waiting("q"));
            Thread.onSpinWait();
        }
    }

    @Test
    void aWakeUpThatLandsOnAWaiterThatJustTimedOutShouldGoToTheNextOne() throws Exception {
        int port = start();
        HttpClient http = HttpClient.newHttpClient();
        CompletableFuture<HttpResponse<String>> shortWait = http.sendAsync(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/?wait=2000")).build(), HttpResponse.BodyHandlers.ofString());
        awaitWaiting(waiters, 1);
        CompletableFuture<HttpResponse<String>> longWait = http.sendAsync(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/?wait=50000")).timeout(Duration.ofSeconds(55)).build(),
                HttpResponse.BodyHandlers.ofString());
        awaitWaiting(waiters, 2);
        // The signal chooses the first waiter; before it is woken, its wait ends.
        waiters.afterChoosing = () -> shortWait.join();
        available.set(1);
        waiters.signal("q", 1);
        waiters.afterChoosing = null;
        assertEquals("null", shortWait.get(10, TimeUnit.SECONDS).body(), "the first waiter's wait ended");
        assertEquals("\"message\"", longWait.get(10, TimeUnit.SECONDS).body(),
                "the wake-up went to the waiter still there, not lost with the one that timed out");
    }
}
