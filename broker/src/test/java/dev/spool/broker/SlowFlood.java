package dev.spool.broker;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A child process of slow clients: opens {@code count} connections to the broker from loopback addresses
 * {@code 127.0.0.first}, {@code .first+1}, ... ({@code perAddress} each), sends half a request head on each,
 * prints {@code open N}, and holds them until its standard input closes.
 * Arguments: {@code port count first perAddress}.
 */
public final class SlowFlood {
    private SlowFlood() {
    }

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        int count = Integer.parseInt(args[1]);
        int first = Integer.parseInt(args[2]);
        int perAddress = Integer.parseInt(args[3]);
        byte[] half = "POST /queues/q/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty".getBytes(StandardCharsets.US_ASCII);
        List<SocketChannel> open = new ArrayList<>(count);
        int failed = 0;
        for (int i = 0; i < count; i++) {
            SocketChannel ch = SocketChannel.open();
            try {
                ch.bind(new InetSocketAddress("127.0.0." + (first + i / perAddress), 0));
                ch.connect(new InetSocketAddress("127.0.0.1", port));
                ch.write(ByteBuffer.wrap(half));
                open.add(ch);
            } catch (IOException e) {
                failed++;
                ch.close();
            }
        }
        System.out.println("open " + open.size() + " failed " + failed);
        System.out.flush();
        while (System.in.read() >= 0) {
            // hold the connections until the test closes our standard input
        }
        for (SocketChannel ch : open) {
            ch.close();
        }
    }
}
