package dev.spool.broker.http.net;

import dev.spool.broker.config.Cidr;
import io.undertow.server.HttpServerExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.channels.AcceptingChannel;
import org.xnio.ssl.SslConnection;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.channels.ClosedChannelException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Admits accepted connections under two caps, so that slow or hostile clients cannot use up the broker's file
 * descriptors (and with them its journals and audit log):
 * <ul>
 *   <li>{@code server.max_connections_per_address}: a connection over its address's cap is kept just long
 *   enough to answer its first request with 429 {@code TOO_MANY_CONNECTIONS}, then closed;</li>
 *   <li>{@code server.max_connections} in all: at the cap, a new connection makes room by closing a rejected one,
 *   else the one idle the longest: between requests since its last request ended (or since it was accepted, if it
 *   never sent a whole head), or trickling a body past {@code server.body_timeout_ms} since that request began.
 *   Only when every connection is in a request is the new one refused with a 503 and closed.</li>
 * </ul>
 * So while thousands of half-sent heads sit open, a normal client still gets in: its connection displaces
 * the longest idle of them. Addresses are counted as {@link Cidr#group} groups them (an IPv6 client by its /64);
 * behind a trusted proxy ({@link Forwarded}) a connection is counted under the client its latest request names.
 * Accepts and closes take one short lock; requests take none, except those from trusted proxies.
 */
public final class Connections implements ChannelListener<AcceptingChannel<StreamConnection>> {
    private static final Logger LOG = LoggerFactory.getLogger(Connections.class);
    /** Eviction looks at most at this many connections, so an accept stays cheap when all are busy. */
    private static final int EVICTION_SCAN = 4096;
    /**
     * Eviction compares the idle times of the first this many idle connections it meets (in order of accept) and
     * takes the one idle the longest: exact up to this many connections, a sampled longest idle beyond (as Redis
     * evicts by sampled LRU), at no cost per request.
     */
    static final int EVICTION_SAMPLE = 256;

    private final int max;
    private final int maxPerAddress;
    private final ChannelListener<? super StreamConnection> next;
    private final GuardedConnection.Edge edge;
    /** Live counted connections, in the order they were accepted. Guarded by this. */
    private final LinkedHashSet<GuardedConnection> live = new LinkedHashSet<>();
    /** Counted connections per client address. Guarded by this. */
    private final Map<InetAddress, Integer> perAddress = new HashMap<>();
    private long evicted;
    private long accepted;

    /**
     * @param max           most connections at once
     * @param maxPerAddress most connections from one client address
     * @param edge          what each connection enforces (body deadline, head size, trusted proxies)
     * @param next          Undertow's open listener, which gets every admitted connection
     */
    Connections(int max, int maxPerAddress, GuardedConnection.Edge edge, ChannelListener<? super StreamConnection> next) {
        if (max < 1 || maxPerAddress < 1) {
            throw new IllegalArgumentException("caps must be >= 1: " + max + ", " + maxPerAddress);
        }
        this.max = max;
        this.maxPerAddress = maxPerAddress;
        this.next = next;
        this.edge = edge;
    }

    GuardedConnection.Edge edge() {
        return edge;
    }

    @Override
    public void handleEvent(AcceptingChannel<StreamConnection> server) {
        StreamConnection socket;
        try {
            socket = server.accept();
        } catch (ClosedChannelException e) {
            return; // the broker is stopping: accept events still queued on the IO threads find the socket closed
        } catch (IOException e) {
            LOG.warn("accept failed: {}", e.toString());
            return;
        }
        if (socket == null) {
            return;
        }
        GuardedConnection c = socket instanceof SslConnection tls ? new GuardedSslConnection(tls, this)
                : new GuardedConnection(socket, this);
        GuardedConnection victim = null;
        boolean admitted;
        synchronized (this) {
            accepted++;
            if (live.size() >= max) {
                victim = victim();
                if (victim != null) {
                    uncount(victim);
                    evicted++;
                }
            }
            admitted = live.size() < max;
            if (admitted) {
                // A trusted proxy carries many clients: it is capped by the clients its requests name instead.
                c.rejected = claim(c.address) > maxPerAddress && !edge.forwarded().trusts(c.peer);
                c.counted = true;
                live.add(c);
            }
        }
        if (victim != null) {
            GuardedConnection v = victim;
            // On its own IO thread, where requests start: if one started since it was chosen, it finishes and the
            // connection closes after its answer instead of cutting the request off.
            v.getIoThread().execute(() -> {
                if (!v.closeWhenIdle()) {
                    IoUtils.safeClose(v);
                }
            });
        }
        if (!admitted) {
            c.refuse(edge.answers().full());
            return;
        }
        next.handleEvent(c);
    }

    /**
     * The connection to close to make room: a rejected one, else of the first {@link #EVICTION_SAMPLE} idle ones
     * (between requests, or trickling a body past its deadline) the one idle the longest; null when every one looked
     * at is in a request. Caller holds the lock.
     */
    private GuardedConnection victim() {
        long now = System.nanoTime();
        GuardedConnection idle = null;
        long since = 0;
        int seen = 0;
        int sampled = 0;
        for (Iterator<GuardedConnection> it = live.iterator(); it.hasNext() && seen < EVICTION_SCAN
                && sampled < EVICTION_SAMPLE; seen++) {
            GuardedConnection c = it.next();
            if (c.rejected) {
                return c;
            }
            long s = c.idleSince(now);
            if (s != Long.MAX_VALUE) {
                sampled++;
                if (idle == null || s - since < 0) {
                    idle = c;
                    since = s;
                }
            }
        }
        return idle;
    }

    /**
     * A request from a trusted proxy: its client, as the proxy names it, becomes the request's source address (for
     * the login limiter and the audit log), and the connection is counted under that client's address from now on;
     * over that address's cap, the request is refused as an extra connection would be.
     */
    void forwarded(GuardedConnection c, HttpServerExchange ex) {
        InetAddress client = edge.forwarded().client(ex, c.peer);
        if (client == null || client.equals(c.peer)) {
            return;
        }
        ex.setSourceAddress(new java.net.InetSocketAddress(client, 0));
        InetAddress key = Cidr.group(client);
        synchronized (this) {
            if (!c.counted || key.equals(c.address)) {
                return;
            }
            release(c.address);
            c.address = key;
            c.rejected = claim(key) > maxPerAddress;
        }
    }

    void forget(GuardedConnection c) {
        synchronized (this) {
            if (c.counted) {
                uncount(c);
            }
        }
    }

    /** Caller holds the lock. */
    private void uncount(GuardedConnection c) {
        c.counted = false;
        live.remove(c);
        release(c.address);
    }

    /** Counts one more connection under {@code address}; returns how many it has now. Caller holds the lock. */
    private int claim(InetAddress address) {
        return perAddress.merge(address, 1, Integer::sum);
    }

    /** Counts one connection less under {@code address}. Caller holds the lock. */
    private void release(InetAddress address) {
        perAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
    }

    /** The cap on all connections. */
    public int max() {
        return max;
    }

    /** Connections now counted against the caps. */
    public synchronized int open() {
        return live.size();
    }

    /** Connections now in a request (not evictable). */
    public synchronized int inRequest() {
        int n = 0;
        for (GuardedConnection c : live) {
            if (!c.idle()) {
                n++;
            }
        }
        return n;
    }

    /** Connections accepted so far, admitted or not. */
    public synchronized long accepted() {
        return accepted;
    }

    /** Connections closed so far to make room for new ones. */
    public synchronized long evicted() {
        return evicted;
    }
}
