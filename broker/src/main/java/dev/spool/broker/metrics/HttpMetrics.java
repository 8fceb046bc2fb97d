package dev.spool.broker.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * {@code spool_http_requests_total{route,method,status}} and {@code spool_http_request_duration_seconds{route,method}}.
 * Routes are labelled by their template ({@code /queues/{name}/messages}), never by the raw path; requests that
 * match no route share {@code route="unmatched"}. Each route's data points are looked up once, so counting a
 * request is an attachment read, an array read and two adds.
 */
public final class HttpMetrics {
    private static final AttachmentKey<Route> ROUTE = AttachmentKey.create(Route.class);
    /** From 100 µs to 30 s: fast pushes, group commits under fsync, and the longest long polls. */
    private static final double[] BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
            0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final Counter requests;
    private final Histogram duration;
    private final Route unmatched;

    HttpMetrics(PrometheusRegistry registry) {
        requests = Counter.builder().name("spool_http_requests_total")
                .help("HTTP requests answered, by route template, method and status")
                .labelNames("route", "method", "status").withoutExemplars().register(registry);
        duration = Histogram.builder().name("spool_http_request_duration_seconds")
                .help("Time from a request's head to the end of its response, by route template and method")
                .labelNames("route", "method").classicOnly().classicUpperBounds(BUCKETS).withoutExemplars()
                .register(registry);
        unmatched = new Route("unmatched", "other");
    }

    /** The data points of one route; create one per route when the route table is built. */
    public Route route(String method, String template) {
        return new Route(template, method);
    }

    /** Marks requests reaching {@code h} as requests of {@code route}. */
    public static HttpHandler tag(Route route, HttpHandler h) {
        return ex -> {
            ex.putAttachment(ROUTE, route);
            h.handleRequest(ex);
        };
    }

    /** Counts and times every request passing through, once its response is complete. */
    public HttpHandler measure(HttpHandler next) {
        return ex -> {
            long start = System.nanoTime();
            ex.addExchangeCompleteListener((e, nextListener) -> {
                try {
                    Route r = e.getAttachment(ROUTE);
                    (r == null ? unmatched : r).observe(e, System.nanoTime() - start);
                } finally {
                    nextListener.proceed();
                }
            });
            next.handleRequest(ex);
        };
    }

    /** One route's latency data point and its counters by status, made on first use. */
    public final class Route {
        private final String template;
        private final String method;
        private final DistributionDataPoint latency;
        private final AtomicReferenceArray<CounterDataPoint> byStatus = new AtomicReferenceArray<>(600);

        private Route(String template, String method) {
            this.template = template;
            this.method = method;
            this.latency = duration.labelValues(template, method);
        }

        void observe(HttpServerExchange ex, long nanos) {
            observe(ex.getStatusCode(), nanos);
        }

        /** Counts one answered request of this route and records its time (what each request costs; see MetricsBenchmark). */
        public void observe(int status, long nanos) {
            latency.observe(nanos / 1e9);
            if (status < 100 || status >= 600) {
                status = 599;
            }
            CounterDataPoint c = byStatus.get(status);
            if (c == null) {
                c = requests.labelValues(template, method, Integer.toString(status));
                byStatus.set(status, c);
            }
            c.inc();
        }
    }
}
