package dev.spool.broker.config;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * A block of IP addresses, {@code 10.0.0.0/8} or {@code fd00::/8} (a single address is a block of one). Also where
 * IP literals are read without ever asking DNS.
 */
public record Cidr(byte[] network, int prefix) {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    public Cidr {
        network = network.clone();
        if (prefix < 0 || prefix > network.length * 8) {
            throw new IllegalArgumentException("prefix /" + prefix + " is out of range");
        }
        mask(network, prefix);
    }

    /** {@code ADDRESS/BITS} or {@code ADDRESS}. */
    public static Cidr parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        InetAddress a = literal(slash < 0 ? t : t.substring(0, slash));
        if (a == null) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address or CIDR block");
        }
        int bits = a.getAddress().length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(t.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' has no prefix length after the '/'");
            }
            if (bits < 0 || bits > a.getAddress().length * 8) {
                throw new IllegalArgumentException("'" + text + "' has a prefix length out of range");
            }
        }
        return new Cidr(a.getAddress(), bits);
    }

    /** Whether {@code a} is in this block (an IPv4 address mapped into IPv6 counts as the IPv4 one). */
    public boolean contains(InetAddress a) {
        byte[] b = plain(a).getAddress();
        if (b.length != network.length) {
            return false;
        }
        mask(b, prefix);
        return java.util.Arrays.equals(b, network);
    }

    /**
     * An IP literal (IPv4 dotted quad, or IPv6, with or without brackets), or null if {@code text} is anything else.
     * Never a DNS lookup: only text shaped as a literal reaches {@link InetAddress#getByName}.
     */
    public static InetAddress literal(String text) {
        String t = text.trim();
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1);
        }
        boolean v4 = IPV4.matcher(t).matches();
        if (!v4 && !(t.indexOf(':') >= 0 && IPV6.matcher(t).matches())) {
            return null;
        }
        try {
            return plain(InetAddress.getByName(t));
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /**
     * The key a client is counted under by per-address limits: an IPv4 address itself, an IPv6 address's /64 (one
     * host or site is usually given a whole /64, so counting single addresses would let it take 2^64 of them).
     */
    public static InetAddress group(InetAddress a) {
        InetAddress p = plain(a);
        if (p instanceof Inet6Address) {
            byte[] b = p.getAddress();
            mask(b, 64);
            try {
                return InetAddress.getByAddress(b);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        return p;
    }

    /** An IPv4-mapped IPv6 address as IPv4; anything else as it is. */
    private static InetAddress plain(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 16) {
            boolean mapped = b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
            for (int i = 0; i < 10 && mapped; i++) {
                mapped = b[i] == 0;
            }
            if (mapped) {
                try {
                    return Inet4Address.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16));
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return a;
    }

    private static void mask(byte[] b, int prefix) {
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            b[i] &= (byte) (0xFF << (8 - keep));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + prefix;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefix;
        } catch (UnknownHostException e) {
            return "?/" + prefix;
        }
    }
}
