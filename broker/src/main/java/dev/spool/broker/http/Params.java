package dev.spool.broker.http;

import io.undertow.server.HttpServerExchange;

import java.util.Deque;

/** Query parameters, checked: a bad value is 400 naming the parameter. */
final class Params {
    private Params() {
    }

    static long number(HttpServerExchange ex, String name, long dflt, long min, long max) {
        Deque<String> v = ex.getQueryParameters().get(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        String s = v.getFirst();
        try {
            long n = Long.parseLong(s.trim());
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "query parameter '" + name + "' must be an integer from "
                    + min + " to " + max + ", was '" + s + "'");
        }
    }

    /** {@code wait=} in seconds, capped at the configured maximum; returned in milliseconds. */
    static long waitMillis(HttpServerExchange ex, Api api) {
        long max = api.config().server().maxWaitSeconds();
        Deque<String> v = ex.getQueryParameters().get("wait");
        if (v == null || v.isEmpty()) {
            return 0;
        }
        try {
            double s = Double.parseDouble(v.getFirst().trim());
            if (!(s >= 0) || Double.isInfinite(s)) {
                throw new NumberFormatException();
            }
            return (long) (Math.min(s, max) * 1000);
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "query parameter 'wait' must be seconds >= 0, was '"
                    + v.getFirst() + "'");
        }
    }
}
