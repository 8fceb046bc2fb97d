package dev.spool.broker.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations and sizes as people write them in the configuration and in requests ("7d", "10GiB"). */
public final class Units {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})\\s*([smhd])");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,15})\\s*([kmgt]i?b)");

    private Units() {
    }

    /**
     * Seconds: a whole number (seconds) or a number and a unit {@code s}, {@code m}, {@code h} or {@code d}; null: 0.
     *
     * @throws IllegalArgumentException saying what is expected
     */
    public static long seconds(Object v) {
        if (v == null) {
            return 0;
        }
        if (v instanceof Integer || v instanceof Long) {
            return nonNegative(((Number) v).longValue(), "a duration of 0 or more");
        }
        Matcher m = DURATION.matcher(String.valueOf(v).trim().toLowerCase(Locale.ROOT));
        if (!(v instanceof String) || !m.matches()) {
            throw new IllegalArgumentException("a duration such as 7d, 12h, 30m or 3600 (seconds)");
        }
        long unit = switch (m.group(2)) {
            case "s" -> 1L;
            case "m" -> 60L;
            case "h" -> 3600L;
            default -> 86_400L;
        };
        return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
    }

    /**
     * Bytes: a whole number, or a number and a unit (KB, MB, GB, TB: powers of 1000; KiB, MiB, GiB, TiB: of 1024);
     * null: 0.
     *
     * @throws IllegalArgumentException saying what is expected
     */
    public static long bytes(Object v) {
        if (v == null) {
            return 0;
        }
        if (v instanceof Integer || v instanceof Long) {
            return nonNegative(((Number) v).longValue(), "a size of 0 or more");
        }
        Matcher m = SIZE.matcher(String.valueOf(v).trim().toLowerCase(Locale.ROOT));
        if (!(v instanceof String) || !m.matches()) {
            throw new IllegalArgumentException("a size such as 10GiB, 500MB or 1073741824 (bytes)");
        }
        String unit = m.group(2);
        long base = unit.contains("i") ? 1024 : 1000;
        long n = Long.parseLong(m.group(1));
        for (int i = 0; i <= "kmgt".indexOf(unit.charAt(0)); i++) {
            n = Math.multiplyExact(n, base);
        }
        return n;
    }

    private static long nonNegative(long n, String what) {
        if (n < 0) {
            throw new IllegalArgumentException(what);
        }
        return n;
    }
}
