package dev.spool.benchmarks;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} and {@code --flag} command-line options, checked against a known set. */
public final class Args {
    private final Map<String, String> values = new HashMap<>();

    public Args(List<String> args, Set<String> withValue, Set<String> flags) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            String name = a.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name) && inline == null) {
                values.put(name, "true");
            } else if (withValue.contains(name)) {
                if (inline == null) {
                    if (i + 1 >= args.size()) {
                        throw new IllegalArgumentException("--" + name + " needs a value");
                    }
                    inline = args.get(++i);
                }
                values.put(name, inline);
            } else {
                throw new IllegalArgumentException("unknown option --" + name);
            }
        }
    }

    public String string(String name, String dflt) {
        return values.getOrDefault(name, dflt);
    }

    public boolean flag(String name) {
        return values.containsKey(name);
    }

    public int positiveInt(String name, int dflt) {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a positive integer, was '" + v + "'");
        }
    }

    public long nonNegativeLong(String name, long dflt) {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a non-negative integer, was '" + v + "'");
        }
    }

    /** A duration such as {@code 10s}, {@code 500ms}, {@code 2m} or plain seconds. */
    public Duration duration(String name, Duration dflt) {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            Duration d;
            if (v.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            } else if (v.endsWith("s")) {
                d = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
            } else if (v.endsWith("m")) {
                d = Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
            } else {
                d = Duration.ofSeconds(Long.parseLong(v));
            }
            if (d.isNegative()) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a duration like 10s, 500ms or 2m, was '" + v + "'");
        }
    }
}
