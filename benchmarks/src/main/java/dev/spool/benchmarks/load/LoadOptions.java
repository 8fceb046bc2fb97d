package dev.spool.benchmarks.load;

import dev.spool.benchmarks.Args;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a load run does.
 *
 * @param messages  stop after this many messages (0: run for {@code duration}, which then only caps the run)
 * @param backlog   drain modes: messages pushed before the measured drain
 * @param baseline  first hit the trivial endpoint for the same duration, to report the ratio
 */
public record LoadOptions(URI url, String user, String password, String token, String queue, Mode mode,
                          int connections, Duration duration, long messages, int size, int batch, long backlog,
                          Duration warmup, boolean baseline, boolean createQueue, boolean json, int subscriptions) {

    /** What each request does. */
    public enum Mode {
        /** {@code POST /queues/{q}/messages}: one message a request. */
        PUSH,
        /** {@code GET /queues/{q}/messages/first}: one message a request (null answers count as empty). */
        PULL,
        /** A push then a pull on each connection, alternately. */
        PAIR,
        /** {@code POST /queues/{q}/messages/batch}: {@code batch} messages a request. */
        BATCH,
        /** A batch push of {@code batch} messages then a batch pull of as many, alternately. */
        BATCH_PAIR,
        /** {@code GET /health}: the server's own ceiling. */
        TRIVIAL,
        /** Push a backlog (not measured), then remove it with {@code GET /queues/{q}/messages?max=batch} until empty. */
        DRAIN,
        /** Push a backlog (not measured), then lease {@code batch} messages and ack them all, until empty. */
        LEASE_DRAIN;

        /** Whether this mode fills a backlog and measures draining it, instead of running for a time. */
        public boolean drains() {
            return this == DRAIN || this == LEASE_DRAIN;
        }
    }

    static final String USAGE = """
            usage: spool-bench.jar load [options]
              --url URL            broker base URL (default http://127.0.0.1:7500)
              --user NAME          user to log in as (default admin); password from --password or $SPOOL_PASSWORD
              --token TOKEN        use this token instead of logging in
              --queue NAME         queue to use (default load)
              --mode MODE          push | pull | pair | batch | batch-pair | trivial | drain | lease-drain
                                   (default push)
              --connections N      keep-alive connections, one thread each (default 64; 1 for drain modes)
              --duration D         how long to measure, e.g. 10s (default 10s); caps a drain (default 10m)
              --messages N         stop after N messages instead (--duration, if given, still caps the run;
                                   otherwise the cap is 10 minutes)
              --size BYTES         approximate message size (default 256)
              --batch N            messages per batch request (default 100)
              --backlog N          drain modes: messages pushed in batches before the drain, which is
                                   measured from its first request until the queue answers empty
                                   (default 200000); no warm-up
              --warmup D           unmeasured warm-up before measuring (default 3s)
              --baseline           also measure the trivial endpoint and report the ratio
              --create-queue       create the queue first if it is missing (needs an ADMINISTRATOR);
                                   drain modes give it max_length 2 x backlog
              --json               print the summary as JSON
              --subscriptions N    named subscriptions s1..sN of the queue, made at "latest" first (with
                                   --create-queue): push modes push with them there; drain modes drain through
                                   all N at once, each checked for every message once (default 0)
            """;

    public static LoadOptions parse(List<String> argv) {
        Args a = new Args(argv,
                Set.of("url", "user", "password", "token", "queue", "mode", "connections", "duration", "messages",
                        "size", "batch", "backlog", "warmup", "subscriptions"),
                Set.of("baseline", "create-queue", "json"));
        Mode mode;
        try {
            mode = Mode.valueOf(a.string("mode", "push").toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--mode must be push, pull, pair, batch, batch-pair, trivial, drain or "
                    + "lease-drain, was '" + a.string("mode", "") + "'");
        }
        if (mode.drains()) {
            // A drain runs until the backlog is gone: these would silently mean something else.
            for (String timed : List.of("messages", "warmup", "baseline")) {
                if (a.string(timed, null) != null) {
                    throw new IllegalArgumentException("--" + timed + " does not apply to --mode " + a.string("mode", "")
                            + " (it drains --backlog messages, with no warm-up)");
                }
            }
        } else if (a.string("backlog", null) != null) {
            throw new IllegalArgumentException("--backlog applies only to --mode drain and lease-drain");
        }
        URI url;
        try {
            url = URI.create(a.string("url", "http://127.0.0.1:7500"));
            if (!"http".equals(url.getScheme()) || url.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--url must be an http:// URL, was '" + a.string("url", "") + "'");
        }
        String password = a.string("password", System.getenv("SPOOL_PASSWORD"));
        String token = a.string("token", null);
        if (token == null && password == null) {
            throw new IllegalArgumentException("give --token, or --password (or $SPOOL_PASSWORD) to log in");
        }
        long messages = a.nonNegativeLong("messages", 0);
        Duration duration = a.duration("duration",
                messages > 0 || mode.drains() ? Duration.ofMinutes(10) : Duration.ofSeconds(10));
        return new LoadOptions(url, a.string("user", "admin"), password, token, a.string("queue", "load"), mode,
                a.positiveInt("connections", mode.drains() ? 1 : 64), duration, messages, a.positiveInt("size", 256),
                a.positiveInt("batch", 100), a.positiveInt("backlog", 200_000),
                mode.drains() ? Duration.ZERO : a.duration("warmup", Duration.ofSeconds(3)), a.flag("baseline"),
                a.flag("create-queue"), a.flag("json"), (int) Math.min(a.nonNegativeLong("subscriptions", 0), 64));
    }
}
