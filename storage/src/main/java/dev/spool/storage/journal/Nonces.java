package dev.spool.storage.journal;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.function.LongSupplier;

/**
 * Unguessable 64-bit nonces for lease tokens, drawn from a {@link SecureRandom} a few kilobytes at a time:
 * one call to the secure generator per 512 nonces instead of one per lease.
 *
 * <p>Not thread-safe: each queue's lease table uses its own, under the pull lock.
 */
final class Nonces implements LongSupplier {
    private final SecureRandom random;
    private final byte[] bytes = new byte[4096];
    private final ByteBuffer buffer = ByteBuffer.wrap(bytes);

    Nonces(SecureRandom random) {
        this.random = random;
        buffer.position(buffer.limit());
    }

    @Override
    public long getAsLong() {
        if (buffer.remaining() < Long.BYTES) {
            random.nextBytes(bytes);
            buffer.clear();
        }
        return buffer.getLong();
    }
}
