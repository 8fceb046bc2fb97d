package dev.spool.broker.http.net;

import dev.spool.broker.config.BrokerConfig;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.protocol.http.HttpOpenListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The HTTP listener: Undertow's HTTP/1.1 protocol on an XNIO worker, assembled as {@code Undertow.start()} does
 * with the same options, except that accepted connections pass through {@link Connections} first (Undertow's
 * builder has no place for that).
 */
public final class HttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpServer.class);
    /** File descriptors kept back from connections for journals, the audit log and the JVM itself. */
    static final int RESERVED_DESCRIPTORS = 1024;

    private final XnioWorker worker;
    private final AcceptingChannel<?> plain;
    private final AcceptingChannel<?> tls;
    private final ByteBufferPool buffers;
    private final Connections connections;

    private HttpServer(XnioWorker worker, AcceptingChannel<?> plain, AcceptingChannel<?> tls, ByteBufferPool buffers,
                       Connections connections) {
        this.worker = worker;
        this.plain = plain;
        this.tls = tls;
        this.buffers = buffers;
        this.connections = connections;
    }

    /**
     * Binds {@code server.host}:{@code server.port} (plain HTTP, unless {@code server.tls} is set without
     * {@code plain_http}) and on {@code server.tls.port} (HTTPS, when {@code server.tls} is set), and hands every
     * request to {@code root}. Both listeners share the connection caps.
     *
     * @throws BindException if a port cannot be bound; the message names it, and nothing is left running
     * @throws IllegalArgumentException if the TLS keystore cannot be read
     */
    public static HttpServer start(BrokerConfig config, HttpHandler root, Answers answers) throws IOException {
        Xnio xnio = Xnio.getInstance(HttpServer.class.getClassLoader());
        XnioWorker worker = xnio.createWorker(OptionMap.builder()
                .set(Options.WORKER_IO_THREADS, config.server().ioThreads())
                .set(Options.CONNECTION_HIGH_WATER, 1_000_000)
                .set(Options.CONNECTION_LOW_WATER, 1_000_000)
                .set(Options.WORKER_TASK_CORE_THREADS, config.server().workerThreads())
                .set(Options.WORKER_TASK_MAX_THREADS, config.server().workerThreads())
                .set(Options.TCP_NODELAY, true)
                .set(Options.CORK, true)
                .getMap());
        OptionMap socketOptions = OptionMap.builder()
                // Writes that stall (a client that stops reading) end after the idle timeout. A body that stalls is
                // ended by its own deadline (server.body_timeout_ms, GuardedConnection), armed only when a body is
                // not already there: a socket read timeout would re-arm a timer on every request.
                .set(Options.WRITE_TIMEOUT, (int) config.server().idleTimeoutMs())
                .set(Options.WORKER_IO_THREADS, worker.getIoThreadCount())
                .set(Options.TCP_NODELAY, true)
                .set(Options.REUSE_ADDRESSES, true)
                .set(Options.BALANCING_TOKENS, 1)
                .set(Options.BALANCING_CONNECTIONS, 2)
                .set(Options.BACKLOG, 1000)
                .getMap();
        OptionMap undertowOptions = OptionMap.builder()
                .set(UndertowOptions.BUFFER_PIPELINED_DATA, true)
                .set(UndertowOptions.MAX_ENTITY_SIZE,
                        (long) Math.max(config.server().maxMessageBytes(), config.server().maxBatchBytes()) + 65_536)
                .set(UndertowOptions.RECORD_REQUEST_START_TIME, false)
                // A larger head is refused with Undertow's empty 400, which GuardedConnection answers as a 431.
                .set(UndertowOptions.MAX_HEADER_SIZE, config.server().maxHeaderBytes())
                // Slow clients: a half-sent head is closed after the head timeout, a connection without a request
                // after the idle timeout.
                .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, (int) config.server().requestHeadTimeoutMs())
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, (int) config.server().idleTimeoutMs())
                // No IDLE_TIMEOUT: its conduit stamps the clock on every read and write, and every state it would
                // end has its own deadline (head, body, no request, a stalled write).
                .getMap();
        // As Undertow.Builder picks for a heap over 128 MiB: 16 KiB direct buffers, less a little for malloc.
        ByteBufferPool buffers = new DefaultByteBufferPool(true, 16 * 1024 - 20, -1, 4);
        HttpOpenListener open = new HttpOpenListener(buffers, undertowOptions);
        open.setRootHandler(root);
        GuardedConnection.Edge edge = new GuardedConnection.Edge(
                java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(config.server().bodyTimeoutMs()), config.server().maxHeaderBytes(),
                new Forwarded(config.server().trustedProxies()), answers);
        Connections connections = new Connections(maxConnections(config), config.server().maxConnectionsPerAddress(), edge, open);
        AcceptingChannel<?> plain = null;
        AcceptingChannel<?> tls = null;
        BrokerConfig.Tls t = config.server().tls();
        int port = config.server().port();
        try {
            if (t == null || t.plainHttp()) {
                plain = worker.createStreamConnectionServer(
                        new InetSocketAddress(InetAddress.getByName(config.server().host()), port), connections, socketOptions);
            }
            if (t != null) {
                port = t.port();
                UndertowXnioSsl ssl = new UndertowXnioSsl(xnio, OptionMap.create(Options.USE_DIRECT_BUFFERS, true),
                        TlsContexts.server(t));
                @SuppressWarnings({"unchecked", "rawtypes"}) // accepted TLS connections are StreamConnections too
                AcceptingChannel<?> accepting = ssl.createSslConnectionServer(worker,
                        new InetSocketAddress(InetAddress.getByName(config.server().host()), port), (ChannelListener) connections,
                        socketOptions);
                tls = accepting;
            }
            // Bound, not yet accepting: a client connecting now waits in the listen backlog until open().
            return new HttpServer(worker, plain, tls, buffers, connections);
        } catch (IOException | RuntimeException e) {
            IoUtils.safeClose(plain);
            IoUtils.safeClose(tls);
            worker.shutdownNow();
            buffers.close();
            if (e instanceof BindException b) {
                BindException named = new BindException("cannot listen on " + config.server().host() + ":" + port
                        + ": " + b.getMessage());
                named.initCause(b);
                throw named;
            }
            throw e;
        }
    }

    /**
     * {@code server.max_connections}, lowered if need be to leave {@link #RESERVED_DESCRIPTORS} of the process's
     * file-descriptor limit for everything else.
     */
    static int maxConnections(BrokerConfig config) {
        long limit = descriptorLimit();
        int configured = config.server().maxConnections();
        if (limit > 0 && configured > limit - RESERVED_DESCRIPTORS) {
            int lowered = (int) Math.max(64, limit - RESERVED_DESCRIPTORS);
            LOG.warn("server.max_connections {} is above what the file-descriptor limit {} leaves; using {} "
                    + "(raise the limit with ulimit -n to allow more)", configured, limit, lowered);
            return lowered;
        }
        return configured;
    }

    /** The process's file-descriptor limit, or -1 where the JVM cannot tell. */
    private static long descriptorLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean u) {
            return u.getMaxFileDescriptorCount();
        }
        return -1;
    }

    /**
     * Starts accepting connections. Until then the ports are bound (so a port in use is found before anything
     * else is opened) and clients that connect wait in the listen backlog, answered once the broker is ready
     * instead of being told it is starting.
     */
    public void open() {
        if (plain != null) {
            plain.resumeAccepts();
        }
        if (tls != null) {
            tls.resumeAccepts();
        }
    }

    /** The plain HTTP port (useful with {@code server.port: 0}), or the HTTPS port when there is no plain listener. */
    public int port() {
        return (plain != null ? plain : tls).getLocalAddress(InetSocketAddress.class).getPort();
    }

    /** The HTTPS port, or -1 without TLS. */
    public int tlsPort() {
        return tls == null ? -1 : tls.getLocalAddress(InetSocketAddress.class).getPort();
    }

    /** Whether plain HTTP is served. */
    public boolean servesPlain() {
        return plain != null;
    }

    /** The connection caps, for tests and metrics. */
    public Connections connections() {
        return connections;
    }

    /** Stops accepting, closes every connection and stops the IO threads, as {@code Undertow.stop()} does. */
    @Override
    public void close() {
        IoUtils.safeClose(plain);
        IoUtils.safeClose(tls);
        worker.shutdown();
        try {
            // A worker thread blocked in a read is not woken by its socket's close: bounded, then forced.
            if (!worker.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
                LOG.warn("HTTP threads still busy 10 s after stopping; forcing them");
                worker.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            worker.shutdownNow();
        }
        buffers.close();
    }
}
