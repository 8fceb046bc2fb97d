package dev.spool.broker.http.net;

import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import org.xnio.IoUtils;
import org.xnio.Option;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;

/**
 * One accepted TCP connection as Undertow sees it: the socket's own conduits, plus what {@link Connections}
 * needs to cap and evict it, plus two answers Undertow would otherwise not give as problem+json.
 * <ul>
 *   <li>Undertow answers a request head it cannot parse (a bad request line, a NUL in a header, {@code %zz} in the
 *   path, over 1,000 parameters, a head over the size limit) with a fixed empty 400. That exact write is
 *   replaced by a 400 {@code MALFORMED_REQUEST} problem.</li>
 *   <li>Undertow closes the connection without a word when a request body cannot be read (a bad chunk size, bad
 *   trailers). Closing while a request's body is unread and its
 *   response unstarted first writes a 400 {@code MALFORMED_REQUEST} problem.</li>
 * </ul>
 * <ul>
 *   <li>Undertow's {@code HostHeaderHandler}, which it installs whatever the options say, answers a missing,
 *   repeated or malformed Host header with an empty 400; that write is replaced by a 400 {@code MALFORMED_REQUEST}
 *   problem too (the connection closes after it, as Undertow's answer said).</li>
 * </ul>
 * <ul>
 *   <li>A request head over {@code server.max_header_bytes} is one Undertow refuses with that same empty 400: the
 *   bytes read since the head began tell it apart, and it is answered 431 {@code HEADERS_TOO_LARGE}.</li>
 *   <li>A body not wholly received {@code server.body_timeout_ms} after its head (a client trickling it) is answered
 *   408 {@code BODY_TIMEOUT} and the connection closed: a timer armed only when a body is not already there.</li>
 * </ul>
 * It also keeps when it was last active (accepted, a request begun or ended) for eviction by the longest idle.
 * Reads and writes go straight to the socket's conduits; only the close and the empty 400s are looked at.
 */
public class GuardedConnection extends StreamConnection {
    /** Most bytes read and dropped before closing after a problem, so the close does not reset the answer away. */
    private static final int DRAIN_LIMIT = 64 * 1024;

    private final StreamConnection socket;
    private final StreamSourceConduit rawSource;
    private final StreamSinkConduit rawSink;
    /** The address it is counted under ({@link Connections}): its peer's group, or the client a proxy named. */
    InetAddress address;
    /** The latest request on this connection (null until the first head is parsed); set on the IO thread. */
    private volatile HttpServerExchange exchange;
    /** Over its address's cap: its first request is answered 429 and the connection closed. */
    volatile boolean rejected;
    /** Counted by {@link Connections} until it is forgotten there (guarded by that object). */
    boolean counted;
    private volatile boolean answered;
    private final Edge edge;
    /** The address as the peer connected from (a load balancer's, when it is a trusted proxy). */
    final InetAddress peer;
    /** When it was accepted, or a request on it began or ended (System.nanoTime). */
    private volatile long lastActivity;
    /** When the latest request's head was complete. */
    private volatile long requestStart;
    /** Bytes read since the current request head began (IO thread only). */
    private long headBytes;
    /** Whether reads now belong to a request head (between requests). IO thread only. */
    private boolean inHead = true;
    /** The armed body deadline, or null. IO thread only. */
    private XnioExecutor.Key bodyTimer;
    private volatile boolean bodyTimedOut;

    /**
     * What the listener enforces on each connection.
     *
     * @param bodyTimeoutNanos {@code server.body_timeout_ms}
     * @param maxHeaderBytes   {@code server.max_header_bytes}
     * @param forwarded        who may name the client ({@code server.trusted_proxies})
     * @param answers          what is said on the wire where no handler runs
     */
    record Edge(long bodyTimeoutNanos, int maxHeaderBytes, Forwarded forwarded, Answers answers) {
    }

    /** The caps this connection is counted under. */
    final Connections owner;

    GuardedConnection(StreamConnection socket, Connections owner) {
        super(socket.getIoThread());
        this.socket = socket;
        this.owner = owner;
        this.edge = owner.edge();
        this.rawSource = socket.getSourceChannel().getConduit();
        this.rawSink = socket.getSinkChannel().getConduit();
        InetSocketAddress from = socket.getPeerAddress(InetSocketAddress.class);
        this.peer = from == null ? null : from.getAddress();
        this.address = peer == null ? null : dev.spool.broker.config.Cidr.group(peer);
        this.lastActivity = System.nanoTime();
        setSourceConduit(new HeadCountingSource(rawSource));
        setSinkConduit(new HeadProblemSink(rawSink));
        setCloseListener(c -> owner.forget(this));
        // The socket also closes by itself (both directions shut down, a reset): close this view with it, so
        // Undertow's and Connections' close listeners run.
        socket.setCloseListener(s -> IoUtils.safeClose(this));
    }

    /** The connection an exchange came on, or null when it did not come through {@link Connections}. */
    public static GuardedConnection of(HttpServerExchange ex) {
        if (ex.getConnection() instanceof HttpServerConnection h && h.getChannel() instanceof GuardedConnection g) {
            return g;
        }
        return null;
    }

    /** The token the latest request on this connection carried, and its hash. IO thread only. */
    private String lastToken;
    private String lastTokenHash;

    /** The hash by which sessions know {@code token}: worked out once per connection and token (IO thread). */
    public String tokenHash(String token) {
        if (!token.equals(lastToken)) {
            lastTokenHash = dev.spool.broker.auth.TokenService.hash(token);
            lastToken = token;
        }
        return lastTokenHash;
    }

    /**
     * A request's head is complete and its handling begins (IO thread). From a trusted proxy, the client it names
     * becomes the request's source address and the connection is counted under it.
     *
     * @return false if the connection is over its address's cap: answer 429 and close
     */
    public boolean requestStarted(HttpServerExchange ex) {
        long now = System.nanoTime();
        exchange = ex;
        requestStart = now;
        lastActivity = now;
        inHead = false;
        ex.addExchangeCompleteListener(requestEnded);
        if (edge.forwarded().any()) {
            owner.forwarded(this, ex);
        }
        return !rejected;
    }

    /** One listener for every request on this connection: the request is over, the next head may begin. */
    private final io.undertow.server.ExchangeCompletionListener requestEnded = (e, next) -> {
        lastActivity = System.nanoTime();
        headBytes = 0;
        inHead = true;
        bodyReceived();
        next.proceed();
    };

    /**
     * The request's body is being received and is not all there yet (IO thread): unless it is complete by
     * {@code server.body_timeout_ms} after the head, the request is answered 408 and the connection closed.
     */
    public void awaitingBody(HttpServerExchange ex) {
        if (bodyTimer != null || ex != exchange) {
            return;
        }
        long left = Math.max(0, requestStart + edge.bodyTimeoutNanos() - System.nanoTime());
        bodyTimer = getIoThread().executeAfter(() -> {
            bodyTimer = null;
            if (exchange == ex && !ex.isRequestComplete()) {
                bodyTimedOut = true;
                IoUtils.safeClose(this);
            }
        }, left, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** The body awaited is all there, or the request is over (IO thread): the deadline is disarmed. */
    public void bodyReceived() {
        if (bodyTimer != null) {
            bodyTimer.remove();
            bodyTimer = null;
        }
    }

    /** Between requests or still sending its first head: nothing is lost but a connection if it is closed. */
    boolean idle() {
        HttpServerExchange ex = exchange;
        return ex == null || ex.isComplete();
    }

    /**
     * Since when this connection has done nothing useful, for eviction by the longest idle: its last request's end
     * (or its accept) when between requests; its request's start when that request's body is still arriving past
     * {@code server.body_timeout_ms}; {@link Long#MAX_VALUE} (never evicted) when it is in a request otherwise.
     */
    long idleSince(long now) {
        HttpServerExchange ex = exchange;
        if (ex == null || ex.isComplete()) {
            return lastActivity;
        }
        long start = requestStart;
        if (!ex.isRequestComplete() && now - start > edge.bodyTimeoutNanos()) {
            return start;
        }
        return Long.MAX_VALUE;
    }

    /**
     * For eviction, on this connection's IO thread: if a request is running, it keeps its connection until its
     * answer is sent and then closes (true); if not, returns false and the caller closes it.
     */
    boolean closeWhenIdle() {
        HttpServerExchange ex = exchange;
        if (ex != null && !ex.isComplete()) {
            ex.setPersistent(false);
            return true;
        }
        return false;
    }

    /** Writes {@code response} (best effort, without blocking), then closes. For connections Undertow never saw. */
    void refuse(byte[] response) {
        if (!(socket instanceof org.xnio.ssl.SslConnection)) { // over TLS nothing can be said before the handshake
            try {
                ByteBuffer b = ByteBuffer.wrap(response);
                rawSink.write(b);
                answered = !b.hasRemaining();
            } catch (IOException e) {
                // the client is gone; closing is all that is left
            }
        }
        IoUtils.safeClose(this);
    }

    @Override
    protected void closeAction() throws IOException {
        HttpServerExchange ex = exchange;
        // Only on this connection's IO thread: elsewhere Undertow could start its own answer meanwhile.
        if (!answered && ex != null && Thread.currentThread() == getIoThread() && !ex.isComplete()
                && !ex.isResponseStarted() && !ex.isRequestComplete()) {
            try {
                rawSink.write(ByteBuffer.wrap(bodyTimedOut ? edge.answers().slowBody() : edge.answers().malformedBody()));
                answered = true;
            } catch (IOException e) {
                // the client is gone
            }
        }
        if (answered) {
            drain();
        }
        socket.close();
    }

    /**
     * Reads and drops what the client already sent, so that closing sends a FIN after the answer rather than a
     * reset that could discard the answer before the client reads it.
     */
    private void drain() {
        ByteBuffer scratch = ByteBuffer.allocate(4096);
        int total = 0;
        try {
            int n;
            while (total < DRAIN_LIMIT && (n = rawSource.read(scratch)) > 0) {
                total += n;
                scratch.clear();
            }
            rawSink.terminateWrites();
            rawSink.flush();
        } catch (IOException e) {
            // nothing more to save
        }
    }

    @Override
    protected void notifyReadClosed() {
        // the socket's own close shuts both directions, after closeAction has had its say
    }

    @Override
    protected void notifyWriteClosed() {
        // as above
    }

    @Override
    public boolean isOpen() {
        return socket.isOpen();
    }

    @Override
    public boolean isReadShutdown() {
        return socket.isReadShutdown();
    }

    @Override
    public boolean isWriteShutdown() {
        return socket.isWriteShutdown();
    }

    @Override
    public SocketAddress getPeerAddress() {
        return socket.getPeerAddress();
    }

    @Override
    public SocketAddress getLocalAddress() {
        return socket.getLocalAddress();
    }

    @Override
    public boolean supportsOption(Option<?> option) {
        return socket.supportsOption(option);
    }

    @Override
    public <T> T getOption(Option<T> option) throws IOException {
        return socket.getOption(option);
    }

    @Override
    public <T> T setOption(Option<T> option, T value) throws IOException {
        return socket.setOption(option, value);
    }

    /** Counts the bytes read while a request head is being read, to tell a head too large from a malformed one. */
    private final class HeadCountingSource extends AbstractStreamSourceConduit<StreamSourceConduit> {
        HeadCountingSource(StreamSourceConduit next) {
            super(next);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = next.read(dst);
            if (n > 0 && inHead) {
                headBytes += n;
            }
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            long n = next.read(dsts, offs, len);
            if (n > 0 && inHead) {
                headBytes += n;
            }
            return n;
        }
    }

    /** Swaps Undertow's one fixed empty 400 for a problem; every other write passes straight through. */
    private final class HeadProblemSink extends AbstractStreamSinkConduit<StreamSinkConduit> {
        private ByteBuffer substitute;

        HeadProblemSink(StreamSinkConduit next) {
            super(next);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (substitute == null) {
                boolean head = src.remaining() == UndertowWire.BAD_REQUEST.length && startsWith(src, UndertowWire.BAD_REQUEST);
                boolean host = !head && isUndertowHost400(src);
                if (!head && !host) {
                    return next.write(src);
                }
                if (head && !flushPipelined()) {
                    return 0; // called again when the socket can take more
                }
                Answers a = edge.answers();
                substitute = ByteBuffer.wrap(!head ? a.malformedHost()
                        : headBytes > edge.maxHeaderBytes() ? a.largeHead() : a.malformedHead());
                answered = true;
            }
            next.write(substitute);
            if (substitute.hasRemaining()) {
                return 0; // Undertow's write listener calls again when the socket can take more
            }
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        /**
         * Sends the answers to earlier pipelined requests, which Undertow still holds in its pipelining buffer
         * when a later head fails to parse: its 400 goes straight to the socket and its close would drop them.
         * They pass back through this conduit on their way out. True once nothing is held.
         */
        private boolean flushPipelined() throws IOException {
            HttpServerExchange ex = exchange;
            if (ex != null && ex.getConnection() instanceof HttpServerConnection h && h.getPipelineBuffer() != null) {
                return h.getPipelineBuffer().flushPipelinedData();
            }
            return true;
        }

        /** Whether the write is one of Undertow's empty Host 400s: its status line, and no body. */
        private static boolean isUndertowHost400(ByteBuffer src) {
            if (src.remaining() > 512) {
                return false;
            }
            for (byte[] line : UndertowWire.HOST_400) {
                if (startsWith(src, line)) {
                    return true;
                }
            }
            return false;
        }

        /** Whether the bytes from the buffer's position begin with {@code prefix}. */
        private static boolean startsWith(ByteBuffer src, byte[] prefix) {
            if (src.remaining() < prefix.length) {
                return false;
            }
            int p = src.position();
            for (int i = 0; i < prefix.length; i++) {
                if (src.get(p + i) != prefix[i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
