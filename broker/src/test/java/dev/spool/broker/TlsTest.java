package dev.spool.broker;

import dev.spool.broker.config.ConfigLoader;
import dev.spool.storage.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10, TLS: an HTTPS listener from a PKCS12 keystore, alone or beside plain HTTP; a self-signed certificate made here. */
@Timeout(90)
class TlsTest {
    private static final String PASSWORD = TestKeystore.PASSWORD;

    @TempDir
    Path dir;

    /** A self-signed certificate for localhost and 127.0.0.1. */
    private Path keystore() throws Exception {
        return TestKeystore.make(dir.resolve("server.p12"));
    }

    /** A client that trusts exactly the test's certificate. */
    private static HttpClient trusting(Path ks) {
        return TestKeystore.trustingClient(ks, PASSWORD);
    }

    /** A config with an HTTPS listener on a free port from the test's keystore, plus {@code tlsLines}. */
    private Path config(String tlsLines) throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, """
                QueueManager:
                  path: "data/queues.json"
                server:
                  host: "127.0.0.1"
                  port: 0
                  tls:
                    keystore: "server.p12"
                    port: 0
                """ + tlsLines);
        return config;
    }

    private static HttpResponse<String> get(HttpClient c, String url) throws Exception {
        return c.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void httpsOnlyShouldServeTrustingClientsAndRefuseOthers() throws Exception {
        Path ks = keystore();
        Path config = config("    password: \"" + PASSWORD + "\"\n");
        try (Broker b = Broker.start(ConfigLoader.load(config), new PrintStream(OutputStream.nullOutputStream()))) {
            int port = b.tlsPort();
            assertTrue(port > 0);
            assertEquals(port, b.port(), "no plain listener");
            HttpResponse<String> ok = get(trusting(ks), "https://127.0.0.1:" + port + "/health");
            assertEquals(200, ok.statusCode(), ok.body());
            HttpResponse<String> bad = trusting(ks).send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
                    + "/queues/x/messages")).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, bad.statusCode(), "the API behind TLS is the same API");
            assertThrows(SSLHandshakeException.class, () -> get(HttpClient.newHttpClient(), "https://127.0.0.1:" + port + "/health"),
                    "a client that does not trust the certificate is refused");
            assertThrows(IOException.class, () -> get(HttpClient.newHttpClient(), "http://127.0.0.1:" + port + "/health"),
                    "plain HTTP on the TLS port gets no answer");
        }
    }

    @Test
    void httpsBesidePlainHttpWithThePasswordFromTheEnvironment() throws Exception {
        Path ks = keystore();
        Path config = config("    plain_http: true\n");
        List<String> cmd = ChildJvm.command(Main.class.getName(), "--config", config.toString());
        cmd.add(1, "-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("SPOOL_TLS_PASSWORD", PASSWORD);
        Process p = pb.start();
        try {
            StringBuffer log = new StringBuffer();
            int plain = ChildBrokers.awaitListening(p.getInputStream(), log);
            Matcher m = Pattern.compile("listening on https://127\\.0\\.0\\.1:(\\d+)").matcher(log);
            assertTrue(m.find(), log.toString());
            int tls = Integer.parseInt(m.group(1));
            assertEquals(200, get(HttpClient.newHttpClient(), "http://127.0.0.1:" + plain + "/health").statusCode());
            assertEquals(200, get(trusting(ks), "https://127.0.0.1:" + tls + "/health").statusCode());
        } finally {
            p.destroy();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aWrongKeystorePasswordShouldStopTheStartWithOneLine() throws Exception {
        keystore();
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "server:\n  port: 0\n  tls: {keystore: \"server.p12\", password: \"wrong\", port: 0}\n");
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int status = Main.execute(new String[]{"--config", config.toString()}, InputStream.nullInputStream(),
                new PrintStream(OutputStream.nullOutputStream()), new PrintStream(err, true));
        assertEquals(2, status, err.toString());
        assertTrue(err.toString().startsWith("spool: cannot use server.tls.keystore"), err.toString());
        assertEquals(1, err.toString().lines().count(), err.toString());
    }
}
