package dev.spool.benchmarks.client;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1.1 keep-alive connection with blocking I/O: cheap enough that a load generator on the same
 * cores as the broker measures the broker, not itself. Not thread-safe: one per thread.
 */
public final class HttpConnection implements Closeable {
    /** A response: status and body bytes. */
    public record Response(int status, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** The connection could not be opened: the request never left this process. */
    public static final class NotSentException extends IOException {
        private static final long serialVersionUID = 1L;

        NotSentException(IOException cause) {
            super("could not connect: " + cause.getMessage(), cause);
        }
    }

    private final String host;
    private final int port;
    private final int timeoutMs;
    private final byte[] buf = new byte[1 << 16];
    private final java.util.Map<String, byte[]> heads = new java.util.HashMap<>();
    private int pos;
    private int limit;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    public HttpConnection(URI base, int timeoutMs) {
        this.host = base.getHost();
        this.port = base.getPort() < 0 ? 80 : base.getPort();
        this.timeoutMs = timeoutMs;
    }

    private void connect() throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(timeoutMs);
        socket.connect(new InetSocketAddress(host, port), timeoutMs);
        in = socket.getInputStream();
        out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
        pos = 0;
        limit = 0;
    }

    /** Sends one request and reads its response; reconnects first if the connection was closed. */
    public Response send(String method, String path, String token, String contentType, byte[] body)
            throws IOException {
        if (socket == null) {
            try {
                connect();
            } catch (IOException e) {
                close();
                throw new NotSentException(e);
            }
        }
        try {
            return exchange(method, path, token, contentType, body);
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    private Response exchange(String method, String path, String token, String contentType, byte[] body)
            throws IOException {
        // The request head up to Content-Length is the same for every request of a kind: built once.
        byte[] head = heads.computeIfAbsent(method + ' ' + path + ' ' + token + ' ' + (body != null ? contentType : ""),
                k -> head(method, path, token, body != null ? contentType : null));
        out.write(head);
        if (body != null) {
            out.write(("Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
        } else if (method.equals("POST") || method.equals("PUT")) {
            out.write(EMPTY_BODY);
        } else {
            out.write(CRLF);
        }
        out.flush();
        return readResponse();
    }

    private static final byte[] EMPTY_BODY = "Content-Length: 0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] CRLF = "\r\n".getBytes(StandardCharsets.ISO_8859_1);

    private byte[] head(String method, String path, String token, String contentType) {
        StringBuilder h = new StringBuilder(160).append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ")
                .append(host).append(':').append(port).append("\r\n");
        if (token != null) {
            h.append("Authorization: Bearer ").append(token).append("\r\n");
        }
        if (contentType != null) {
            h.append("Content-Type: ").append(contentType).append("\r\n");
        }
        return h.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private boolean fill() throws IOException {
        if (pos < limit) {
            return true;
        }
        int n = in.read(buf, 0, buf.length);
        if (n <= 0) {
            return false;
        }
        pos = 0;
        limit = n;
        return true;
    }

    private Response readResponse() throws IOException {
        String status = readLine();
        if (status.length() < 12 || !status.startsWith("HTTP/1.")) {
            throw new IOException("bad status line: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Content-Length")) {
                length = Long.parseLong(value);
            } else if (name.equalsIgnoreCase("Transfer-Encoding") && value.equalsIgnoreCase("chunked")) {
                chunked = true;
            } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
                close = true;
            }
        }
        byte[] body;
        if (chunked) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            while (true) {
                int size = Integer.parseInt(readLine().split(";")[0].trim(), 16);
                if (size == 0) {
                    readLine();
                    break;
                }
                all.write(readFully(size));
                readLine();
            }
            body = all.toByteArray();
        } else if (length >= 0) {
            body = readFully((int) length);
        } else {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            while (fill()) {
                all.write(buf, pos, limit - pos);
                pos = limit;
            }
            body = all.toByteArray();
            close = true;
        }
        if (close) {
            close();
        }
        return new Response(code, body);
    }

    private byte[] readFully(int n) throws IOException {
        byte[] b = new byte[n];
        int off = 0;
        while (off < n) {
            if (!fill()) {
                throw new EOFException("connection closed inside a response body");
            }
            int k = Math.min(n - off, limit - pos);
            System.arraycopy(buf, pos, b, off, k);
            pos += k;
            off += k;
        }
        return b;
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            if (!fill()) {
                throw new EOFException("connection closed by the server");
            }
            int c = buf[pos++] & 0xff;
            if (c == '\n') {
                int len = sb.length();
                if (len > 0 && sb.charAt(len - 1) == '\r') {
                    sb.setLength(len - 1);
                }
                return sb.toString();
            }
            sb.append((char) c);
        }
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Closing a broken connection: nothing more to do.
            }
            socket = null;
        }
    }
}
