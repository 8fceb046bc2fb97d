package dev.spool.broker.audit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A reusable buffer that builds one JSON line by hand: fixed keys and numbers are copied, strings are
 * escaped, and already-valid JSON (a request body) is copied as bytes. Cheaper than a generic JSON
 * generator on the audit log's hot path. Not thread-safe.
 */
final class JsonLine {
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private byte[] buf = new byte[4096];
    private int len;

    void reset() {
        len = 0;
    }

    JsonLine raw(String ascii) {
        int n = ascii.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) ascii.charAt(i);
        }
        return this;
    }

    JsonLine raw(byte c) {
        ensure(1);
        buf[len++] = c;
        return this;
    }

    /** Valid JSON bytes, copied with raw CR and LF (whitespace there) turned into spaces. */
    JsonLine json(byte[] b) {
        return json(b, 0, b.length);
    }

    JsonLine json(byte[] b, int from, int to) {
        if (to - from >= 3 && b[from] == (byte) 0xEF && b[from + 1] == (byte) 0xBB && b[from + 2] == (byte) 0xBF) {
            from += 3; // a UTF-8 byte-order mark: the parser skipped it, but inside a line it is not JSON
        }
        int n = to - from;
        ensure(n);
        System.arraycopy(b, from, buf, len, n);
        for (int i = len, end = len + n; i < end; i++) {
            byte c = buf[i];
            if (c == '\n' || c == '\r') {
                buf[i] = ' ';
            }
        }
        len += n;
        return this;
    }

    JsonLine number(long n) {
        return raw(Long.toString(n));
    }

    JsonLine number(double d) {
        return raw(Double.toString(d));
    }

    /** A JSON string (or null). */
    JsonLine string(String s) {
        if (s == null) {
            return raw("null");
        }
        int n = s.length();
        ensure(n + 2);
        int mark = len;
        buf[len++] = '"';
        boolean plain = true;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
                plain = false;
                break;
            }
            buf[len++] = (byte) c;
        }
        if (plain) {
            buf[len++] = '"';
            return this;
        }
        len = mark; // not plain ASCII: escape from the UTF-8 bytes
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        ensure(utf8.length * 6 + 2);
        buf[len++] = '"';
        for (byte c : utf8) {
            if (c == '"' || c == '\\') {
                buf[len++] = '\\';
                buf[len++] = c;
            } else if (c >= 0 && c < 0x20) {
                buf[len++] = '\\';
                buf[len++] = 'u';
                buf[len++] = '0';
                buf[len++] = '0';
                buf[len++] = HEX[c >> 4];
                buf[len++] = HEX[c & 15];
            } else {
                buf[len++] = c;
            }
        }
        buf[len++] = '"';
        return this;
    }

    /** The line's length in bytes so far. */
    int length() {
        return len;
    }

    /** Writes the line; returns its length in bytes. */
    int writeTo(OutputStream out) throws IOException {
        out.write(buf, 0, len);
        return len;
    }

    private void ensure(int n) {
        if (len + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        }
    }
}
