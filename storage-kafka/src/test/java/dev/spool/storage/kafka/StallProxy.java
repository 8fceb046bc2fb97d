package dev.spool.storage.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy on loopback whose answers (bytes from the target back to the client) can be held: while stalled,
 * requests still reach the target and its answers wait in the proxy, the connection open, as on a network that
 * stopped carrying packets one way and then recovered (TCP retransmits them). No packet is dropped.
 */
final class StallProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Object gate = new Object();
    private boolean stalled;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    StallProxy(InetSocketAddress target) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.target = target;
        Thread t = new Thread(this::accept, "stall-proxy-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Holds every answer from now on, until {@link #resume()}. */
    void stall() {
        synchronized (gate) {
            stalled = true;
        }
    }

    /** Passes on the held answers and what follows. */
    void resume() {
        synchronized (gate) {
            stalled = false;
            gate.notifyAll();
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                Socket out = new Socket();
                out.connect(target, 10_000);
                sockets.add(in);
                sockets.add(out);
                pipe(in, out, false);
                pipe(out, in, true);
            } catch (IOException e) {
                // closed, or the target refused: the client sees its connection fail and tries again
            }
        }
    }

    private void pipe(Socket from, Socket to, boolean answers) throws IOException {
        InputStream is = from.getInputStream();
        OutputStream os = to.getOutputStream();
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try {
                int n;
                while ((n = is.read(buf)) > 0) {
                    if (answers) {
                        awaitFlowing();
                    }
                    os.write(buf, 0, n);
                    os.flush();
                }
            } catch (IOException | InterruptedException e) {
                // one side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "stall-proxy-pipe");
        t.setDaemon(true);
        t.start();
    }

    private void awaitFlowing() throws InterruptedException {
        synchronized (gate) {
            while (stalled) {
                gate.wait();
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        resume();
        server.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}
