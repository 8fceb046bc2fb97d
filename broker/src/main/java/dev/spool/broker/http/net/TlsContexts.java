package dev.spool.broker.http.net;

import dev.spool.broker.config.BrokerConfig;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collections;

/** The TLS contexts made from {@code server.tls}: the listener's, and the one nodes forward leases with. */
public final class TlsContexts {
    private TlsContexts() {
    }

    /** The server's key and certificate chain from the PKCS12 keystore. */
    static SSLContext server(BrokerConfig.Tls t) {
        try {
            KeyStore ks = load(t);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, t.password().toCharArray());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw unusable(t, e);
        }
    }

    /**
     * For calls to other nodes of a cluster: trusts what the JDK trusts, and every certificate of this node's own
     * keystore, its issuers included. So nodes that share one keystore, or hold certificates from one private CA
     * (with the CA in each chain), reach each other over HTTPS with no trust store to configure. Host names are
     * still checked against the certificate.
     */
    public static SSLContext forwarding(BrokerConfig.Tls t) {
        try {
            KeyStore own = load(t);
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int n = 0;
            for (String alias : Collections.list(own.aliases())) {
                Certificate[] chain = own.getCertificateChain(alias); // a key's; null for a trusted certificate
                for (Certificate c : chain != null ? chain : new Certificate[]{own.getCertificate(alias)}) {
                    trusted.setCertificateEntry("node-" + n++, c);
                }
            }
            X509TrustManager mine = x509(trusted);
            X509TrustManager jdk = x509(null);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[]{new EitherTrustManager(mine, jdk)}, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw unusable(t, e);
        }
    }

    private static KeyStore load(BrokerConfig.Tls t) {
        try (InputStream in = Files.newInputStream(t.keystore())) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, t.password().toCharArray());
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            throw unusable(t, e);
        }
    }

    private static IllegalArgumentException unusable(BrokerConfig.Tls t, Exception e) {
        return new IllegalArgumentException("cannot use server.tls.keystore " + t.keystore() + ": "
                + (e.getMessage() == null ? e.toString() : e.getMessage()));
    }

    /** The X.509 trust manager over {@code store} (null: the JDK's default trust store). */
    private static X509TrustManager x509(KeyStore store) throws GeneralSecurityException {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        for (TrustManager m : tmf.getTrustManagers()) {
            if (m instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    /** Trusts a server that either manager trusts (forwarding never authenticates as a client). */
    private record EitherTrustManager(X509TrustManager first, X509TrustManager second) implements X509TrustManager {
        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                first.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                second.checkServerTrusted(chain, authType);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a forwarding client does not accept clients");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            X509Certificate[] a = first.getAcceptedIssuers();
            X509Certificate[] b = second.getAcceptedIssuers();
            X509Certificate[] all = java.util.Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, all, a.length, b.length);
            return all;
        }
    }
}
