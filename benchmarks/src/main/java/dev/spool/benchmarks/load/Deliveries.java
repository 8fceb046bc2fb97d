package dev.spool.benchmarks.load;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The ids, and lease tokens, of a pull or lease answer: a JSON array of message objects such as
 * {@code [{"id":7,"lease":"...","delivery":1,"body":{...}},...]}. Read in one pass over the bytes without
 * building a tree, because the load generator shares the broker's cores.
 *
 * @param ids    the {@code "id"} of each message, in answer order
 * @param leases the {@code "lease"} of each message as it is written in the answer (JSON string content,
 *               escapes kept, so it can be written back as is); empty unless asked for
 */
record Deliveries(long[] ids, List<String> leases) {
    private static final byte[] ID = {'i', 'd'};
    private static final byte[] LEASE = {'l', 'e', 'a', 's', 'e'};

    int size() {
        return ids.length;
    }

    /**
     * Scans an answer.
     *
     * @throws IllegalStateException if it is not an array of objects each with a numeric id (and a lease token
     *                               when {@code withLeases})
     */
    static Deliveries scan(byte[] json, boolean withLeases) {
        long[] ids = new long[16];
        List<String> leases = withLeases ? new ArrayList<>() : List.of();
        int count = 0;
        int depth = 0;
        boolean hasId = false;
        boolean hasLease = false;
        int i = skipSpace(json, 0);
        if (i >= json.length || json[i] != '[') {
            throw new IllegalStateException("expected a JSON array of messages, got: " + excerpt(json));
        }
        for (; i < json.length; i++) {
            byte c = json[i];
            if (c == '"') {
                int start = i + 1;
                i = stringEnd(json, start);
                if (depth != 2) {
                    continue;
                }
                int colon = skipSpace(json, i + 1);
                if (colon >= json.length || json[colon] != ':') {
                    continue; // a value, not a key
                }
                int value = skipSpace(json, colon + 1);
                if (is(json, start, i, ID)) {
                    int end = value;
                    while (end < json.length && (json[end] == '-' || (json[end] >= '0' && json[end] <= '9'))) {
                        end++;
                    }
                    if (count == ids.length) {
                        ids = Arrays.copyOf(ids, count * 2);
                    }
                    try {
                        ids[count] = Long.parseLong(new String(json, value, end - value, StandardCharsets.US_ASCII));
                    } catch (NumberFormatException e) {
                        throw new IllegalStateException("message " + (count + 1) + " has no numeric id: " + excerpt(json));
                    }
                    hasId = true;
                    i = end - 1;
                } else if (withLeases && is(json, start, i, LEASE) && value < json.length && json[value] == '"') {
                    int end = stringEnd(json, value + 1);
                    leases.add(new String(json, value + 1, end - value - 1, StandardCharsets.UTF_8));
                    hasLease = true;
                    i = end;
                } else {
                    i = colon;
                }
            } else if (c == '{' || c == '[') {
                depth++;
                if (c == '{' && depth == 2) {
                    hasId = false;
                    hasLease = false;
                }
            } else if (c == '}' || c == ']') {
                if (c == '}' && depth == 2) {
                    if (!hasId || (withLeases && !hasLease)) {
                        throw new IllegalStateException("message " + (count + 1) + " lacks its "
                                + (hasId ? "lease" : "id") + ": " + excerpt(json));
                    }
                    count++;
                }
                depth--;
            }
        }
        return new Deliveries(Arrays.copyOf(ids, count), leases);
    }

    /** The index of the quote that closes the string whose content starts at {@code from}. */
    private static int stringEnd(byte[] b, int from) {
        int i = from;
        while (i < b.length && b[i] != '"') {
            i += b[i] == '\\' ? 2 : 1;
        }
        return i;
    }

    private static int skipSpace(byte[] b, int from) {
        int i = from;
        while (i < b.length && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) {
            i++;
        }
        return i;
    }

    private static boolean is(byte[] b, int from, int to, byte[] key) {
        return to - from == key.length && Arrays.equals(b, from, to, key, 0, key.length);
    }

    private static String excerpt(byte[] b) {
        String s = new String(b, 0, Math.min(b.length, 200), StandardCharsets.UTF_8);
        return b.length > 200 ? s + "..." : s;
    }
}
