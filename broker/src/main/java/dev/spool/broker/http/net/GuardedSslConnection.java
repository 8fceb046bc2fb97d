package dev.spool.broker.http.net;

import org.xnio.ChannelListener;
import org.xnio.StreamConnection;
import org.xnio.channels.SslChannel;
import org.xnio.ssl.SslConnection;

import javax.net.ssl.SSLSession;
import java.io.IOException;

/** A {@link GuardedConnection} over TLS: Undertow sees an {@link SslChannel} (https scheme, the TLS session). */
final class GuardedSslConnection extends GuardedConnection implements SslChannel {
    private final SslConnection tls;

    GuardedSslConnection(SslConnection tls, Connections owner) {
        super(tls, owner);
        this.tls = tls;
    }

    @Override
    public void startHandshake() throws IOException {
        tls.startHandshake();
    }

    @Override
    public SSLSession getSslSession() {
        return tls.getSslSession();
    }

    @Override
    public ChannelListener.Setter<? extends SslChannel> getHandshakeSetter() {
        return tls.getHandshakeSetter();
    }

    @Override
    @SuppressWarnings("unchecked") // a listener of this connection's supertypes, which is what the setter stores
    public ChannelListener.Setter<GuardedSslConnection> getCloseSetter() {
        return l -> setCloseListener((ChannelListener<? super StreamConnection>) (ChannelListener<?>) l);
    }
}
