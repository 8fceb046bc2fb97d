package dev.spool.storage;

/** A message taken from a queue; {@code id} is the id its push returned. */
public record Message(long id, byte[] payload) {
}
