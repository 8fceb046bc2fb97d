package dev.spool.storage;

/**
 * A message handed out under a lease.
 *
 * @param lease    the opaque token that acknowledges, renews or releases this delivery
 * @param delivery how many times the message has been leased, this time included (1 the first time)
 */
public record Leased(long id, String lease, int delivery, byte[] payload) {
}
