package dev.spool.broker;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the tests that run brokers as child processes share: finding the port, calling the API. */
final class ChildBrokers {
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    private ChildBrokers() {
    }

    /** A broker child process and the port it listens on. */
    record Child(Process process, int port) {
    }

    /**
     * Starts {@code Main --config config} as a child process, adds it to {@code started} (for the test to kill
     * whatever happens), and waits until it listens; its log goes to {@code output}.
     */
    static Child start(java.nio.file.Path config, java.util.List<Process> started, StringBuffer output)
            throws Exception {
        Process p = new ProcessBuilder(dev.spool.storage.ChildJvm.command(Main.class.getName(), "--config",
                config.toString())).redirectErrorStream(true).start();
        started.add(p);
        return new Child(p, awaitListening(p.getInputStream(), output));
    }

    /** Reads a child's log until it names its port, appending every line to {@code seen}; keeps draining it. */
    static int awaitListening(InputStream log, StringBuffer seen) throws Exception {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(log, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    seen.append(line).append('\n');
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
                port.completeExceptionally(new IllegalStateException("broker exited:\n" + seen));
            } catch (Exception e) {
                port.completeExceptionally(e);
            }
        });
        reader.setDaemon(true);
        reader.start();
        return port.get(60, TimeUnit.SECONDS);
    }

    /** One API call to a child broker, with a JSON body if given and a bearer token if given. */
    static HttpResponse<String> call(HttpClient http, int port, String method, String path, String token, String body)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
