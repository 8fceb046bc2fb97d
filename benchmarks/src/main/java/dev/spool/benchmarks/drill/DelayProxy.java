package dev.spool.benchmarks.drill;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy that delays every byte by a fixed time in each direction (latency, not a bandwidth cap): what it
 * reads is passed on {@code delayMs} later, in order. This kernel has no {@code netem}, so network delay between
 * hosts is made here. One reader and one writer thread per direction of each connection; closing either side
 * closes both.
 */
final class DelayProxy implements AutoCloseable {
    private static final byte[] END = new byte[0];
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final long delayNanos;
    private final java.util.concurrent.atomic.AtomicLong passed = new java.util.concurrent.atomic.AtomicLong();

    private record Chunk(long due, byte[] bytes) {
    }

    /** Listens on {@code address}, port {@code port} (0: any free one), forwarding to {@code target}. */
    DelayProxy(String address, int port, InetSocketAddress target, long delayMs) throws IOException {
        this.server = new ServerSocket(port, 50, InetAddress.getByName(address));
        this.target = target;
        this.delayNanos = TimeUnit.MILLISECONDS.toNanos(delayMs);
        Thread t = new Thread(this::accept, "delay-proxy-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** The bytes passed on so far, both directions. */
    long bytesPassed() {
        return passed.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                Socket out = new Socket();
                try {
                    out.connect(target, 10_000);
                } catch (IOException e) {
                    in.close(); // as a refused or timed-out connect, seen by the client as a closed connection
                    continue;
                }
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                pipe(in, out);
                pipe(out, in);
            } catch (IOException e) {
                // closed, or one connection failed: go on while open
            }
        }
    }

    private void pipe(Socket from, Socket to) throws IOException {
        BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
        InputStream is = from.getInputStream();
        OutputStream os = to.getOutputStream();
        Thread reader = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try {
                int n;
                while ((n = is.read(buf)) > 0) {
                    queue.add(new Chunk(System.nanoTime() + delayNanos, Arrays.copyOf(buf, n)));
                }
            } catch (IOException e) {
                // the connection ended
            }
            queue.add(new Chunk(System.nanoTime() + delayNanos, END));
        }, "delay-proxy-read");
        Thread writer = new Thread(() -> {
            try {
                while (true) {
                    Chunk c = queue.take();
                    long wait = c.due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    if (c.bytes == END) {
                        break;
                    }
                    os.write(c.bytes);
                    passed.addAndGet(c.bytes.length);
                }
            } catch (IOException | InterruptedException e) {
                // the other side ended
            }
            closeQuietly(from);
            closeQuietly(to);
        }, "delay-proxy-write");
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closed already
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
