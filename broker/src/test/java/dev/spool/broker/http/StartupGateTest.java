package dev.spool.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.undertow.Undertow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StartupGateTest {
    @Test
    @Timeout(60)
    void requestsShouldBeAnswered503UntilTheGateOpensThenRouted() throws Exception {
        StartupGate gate = new StartupGate();
        Undertow server = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(gate).build();
        server.start();
        try {
            int port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                    .timeout(Duration.ofSeconds(30)).build();

            HttpResponse<String> starting = http.send(get, HttpResponse.BodyHandlers.ofString());
            assertEquals(503, starting.statusCode());
            assertEquals("application/problem+json", starting.headers().firstValue("Content-Type").orElse(""));
            JsonNode problem = Json.MAPPER.readTree(starting.body());
            assertEquals("UNAVAILABLE", problem.path("code").asText());

            gate.open(ex -> Json.send(ex, 200, Map.of("status", "ok")));
            HttpResponse<String> ready = http.send(get, HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ready.statusCode(), ready.body());
        } finally {
            server.stop();
        }
    }
}
