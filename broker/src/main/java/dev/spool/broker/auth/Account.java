package dev.spool.broker.auth;

/**
 * A user as sessions are checked against it: its role, and its generation, which every change to the user (its
 * password, its role, its deletion and adding again) moves.
 */
public record Account(Role role, long generation) {
}
