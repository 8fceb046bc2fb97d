package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** One HTTP/1.1 response read off a raw socket: status, head and body (by its Content-Length). */
record RawAnswer(int status, String head, String body) {
    JsonNode json() throws IOException {
        return TestBroker.JSON.readTree(body);
    }

    /** The next response on {@code in}, or null if the stream ends before a whole head. */
    static RawAnswer read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                return null;
            }
            head.write(c);
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        int length = 0;
        for (String line : h.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return new RawAnswer(Integer.parseInt(h.split(" ")[1]), h,
                new String(in.readNBytes(length), StandardCharsets.UTF_8));
    }
}
