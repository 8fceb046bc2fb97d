package dev.spool.benchmarks;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import org.xnio.Options;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code java -jar spool-bench.jar floor --port 7510}: the floor under Spool's single pushes. A bare Undertow, with
 * the IO thread count Spool uses, that answers the calls of the peer harness's {@code SpoolBench} and does nothing
 * else: a login answers a fixed token, a push reads its body on the IO thread and answers {@code 201 {"id":n}} (no
 * token check, no JSON parse, no journal, no audit, no metrics), create and delete answer their status. Run the
 * harness's client against it ({@code SCENARIOS=A}, no warm-up drain) and it measures the most any broker built on
 * Undertow could do with this client on this machine, so Spool's figure can be read against the part its own work
 * costs, and Redis's against what HTTP/1.1 on Undertow costs at all.
 */
final class UndertowFloor {
    private static final byte[] TOKEN = "{\"token\":\"floor\",\"expires_in\":3600}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] DEPTH = "{\"depth\":0}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] DELETED = "{\"deleted\":true}".getBytes(StandardCharsets.UTF_8);

    private UndertowFloor() {
    }

    static int run(java.util.List<String> args, java.io.PrintStream out) throws InterruptedException {
        Args a = new Args(args, java.util.Set.of("port", "io-threads", "host"), java.util.Set.of());
        int port = a.positiveInt("port", 7510);
        int ioThreads = a.positiveInt("io-threads", Math.max(2, Runtime.getRuntime().availableProcessors()));
        AtomicLong ids = new AtomicLong();
        Undertow server = Undertow.builder()
                .setIoThreads(ioThreads)
                .setWorkerThreads(8)
                .setSocketOption(Options.TCP_NODELAY, true)
                .setServerOption(UndertowOptions.RECORD_REQUEST_START_TIME, false)
                .addHttpListener(port, a.string("host", "127.0.0.1"))
                .setHandler(exchange -> handle(exchange, ids))
                .build();
        server.start();
        out.println("undertow floor on port " + port + ", " + ioThreads + " IO threads");
        new CountDownLatch(1).await();
        return 0;
    }

    private static void handle(HttpServerExchange exchange, AtomicLong ids) {
        String path = exchange.getRequestPath();
        if (exchange.getRequestMethod().equals(Methods.POST) && path.endsWith("/messages")) {
            exchange.getRequestReceiver().receiveFullBytes((ex, body) -> answer(ex, 201,
                    ("{\"id\":" + ids.incrementAndGet() + ",\"bytes\":" + body.length + "}")
                            .getBytes(StandardCharsets.UTF_8)));
        } else if (path.equals("/login")) {
            exchange.getRequestReceiver().receiveFullBytes((ex, body) -> answer(ex, 200, TOKEN));
        } else if (exchange.getRequestMethod().equals(Methods.POST)) {
            exchange.getRequestReceiver().receiveFullBytes((ex, body) -> answer(ex, 201, DEPTH));
        } else if (exchange.getRequestMethod().equals(Methods.DELETE)) {
            answer(exchange, 200, DELETED);
        } else {
            answer(exchange, 200, DEPTH);
        }
    }

    private static void answer(HttpServerExchange exchange, int status, byte[] body) {
        exchange.setStatusCode(status);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseSender().send(ByteBuffer.wrap(body));
    }
}
