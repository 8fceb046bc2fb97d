package dev.spool.broker.http.net;

import dev.spool.broker.config.Cidr;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Who the client is behind a load balancer ({@code server.trusted_proxies}). Only a connection from a trusted
 * proxy may name the client, with {@code Forwarded} (RFC 7239, its {@code for=} parameters) or else
 * {@code X-Forwarded-For}. The hops are read from the right (the nearest) leftwards, past every trusted proxy; the
 * first address that is not one is the client. A hop that is not an IP literal ({@code unknown}, an obfuscated name,
 * garbage) ends the walk: the client is then the last trusted hop, never something a client could have made up
 * further left.
 */
final class Forwarded {
    private static final HttpString FORWARDED = new HttpString("Forwarded");

    private final List<Cidr> trusted;

    Forwarded(List<Cidr> trusted) {
        this.trusted = List.copyOf(trusted);
    }

    /** Whether any proxy is trusted at all (the common case, none, costs nothing per request). */
    boolean any() {
        return !trusted.isEmpty();
    }

    boolean trusts(InetAddress a) {
        for (Cidr c : trusted) {
            if (c.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** The client's address for a request that came from {@code peer}. */
    InetAddress client(HttpServerExchange ex, InetAddress peer) {
        if (peer == null || !trusts(peer)) {
            return peer;
        }
        List<String> hops = ex.getRequestHeaders().contains(FORWARDED) ? forwardedFor(ex.getRequestHeaders()
                .get(FORWARDED)) : split(ex.getRequestHeaders().get(Headers.X_FORWARDED_FOR));
        InetAddress client = peer;
        for (int i = hops.size() - 1; i >= 0; i--) {
            InetAddress hop = Cidr.literal(withoutPort(hops.get(i)));
            if (hop == null) {
                break;
            }
            client = hop;
            if (!trusts(hop)) {
                break;
            }
        }
        return client;
    }

    /** The comma-separated entries of every line of a header, in order. */
    private static List<String> split(HeaderValues lines) {
        List<String> out = new ArrayList<>();
        if (lines != null) {
            for (String line : lines) {
                for (String part : line.split(",")) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }

    /** The {@code for=} value of each element of {@code Forwarded} (an element without one counts as unknown). */
    private static List<String> forwardedFor(HeaderValues lines) {
        List<String> out = new ArrayList<>();
        for (String element : split(lines)) {
            String value = "unknown";
            for (String pair : element.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0 && pair.substring(0, eq).trim().toLowerCase(Locale.ROOT).equals("for")) {
                    value = pair.substring(eq + 1).trim();
                    if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                        value = value.substring(1, value.length() - 1);
                    }
                }
            }
            out.add(value);
        }
        return out;
    }

    /** {@code [v6]:port} or {@code v4:port} without the port; anything else as it is. */
    private static String withoutPort(String hop) {
        if (hop.startsWith("[")) {
            int end = hop.indexOf(']');
            return end < 0 ? hop : hop.substring(0, end + 1);
        }
        int colon = hop.indexOf(':');
        return colon > 0 && hop.indexOf(':', colon + 1) < 0 ? hop.substring(0, colon) : hop;
    }
}
