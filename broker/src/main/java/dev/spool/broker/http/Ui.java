package dev.spool.broker.http;

import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.PathTemplateMatch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The dashboard: {@code GET /} (the page) and {@code GET /ui/{file}} (its script, style and the vendored uPlot
 * from its webjar), all from the jar, nothing from the internet. The page signs in with {@code POST /login},
 * keeps the token in the tab's session storage and reads {@code GET /overview} every 1.5 s.
 */
final class Ui {
    private static final String WEBJAR = "/META-INF/resources/webjars/uplot/1.6.30/dist/";
    private record Asset(byte[] bytes, String type) {
    }

    private static final Asset PAGE = asset("ui/index.html", "text/html; charset=utf-8");
    private static final Map<String, Asset> FILES = Map.of(
            "app.js", asset("ui/app.js", "text/javascript; charset=utf-8"),
            "app.css", asset("ui/app.css", "text/css; charset=utf-8"),
            "uplot.js", asset(WEBJAR + "uPlot.iife.min.js", "text/javascript; charset=utf-8"),
            "uplot.css", asset(WEBJAR + "uPlot.min.css", "text/css; charset=utf-8"));
    /** Scripts and styles from this origin only; no inline script; never framed. */
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private Ui() {
    }

    private static Asset asset(String path, String type) {
        return new Asset(resource(path), type);
    }

    /** A file of the jar (relative to this package unless it starts with {@code /}), read whole. */
    static byte[] resource(String path) {
        try (InputStream in = Ui.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void page(HttpServerExchange ex) {
        send(ex, PAGE);
    }

    static void file(HttpServerExchange ex) {
        PathTemplateMatch match = ex.getAttachment(PathTemplateMatch.ATTACHMENT_KEY);
        String name = match == null ? "" : match.getParameters().getOrDefault("file", "");
        Asset a = FILES.get(name);
        if (a == null) {
            throw new ApiException(ErrorCode.ROUTE_NOT_FOUND, "no dashboard file '" + name + "'");
        }
        send(ex, a);
    }

    private static void send(HttpServerExchange ex, Asset a) {
        ex.setStatusCode(200);
        ex.getResponseHeaders().put(Headers.CONTENT_TYPE, a.type());
        ex.getResponseHeaders().put(new HttpString("Content-Security-Policy"), CSP);
        ex.getResponseHeaders().put(new HttpString("X-Content-Type-Options"), "nosniff");
        ex.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-cache");
        ex.getResponseSender().send(ByteBuffer.wrap(a.bytes()));
    }
}
