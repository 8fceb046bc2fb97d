package dev.spool.broker.auth;

import java.io.IOException;
import java.util.Map;
import java.util.Set;

/**
 * Where a {@link UserStore}'s users are kept: one strategy per backend. The store keeps the users in memory and
 * does the checking and hashing; a strategy reads them, notices changes made elsewhere and writes changes.
 */
sealed interface UsersKept permits UsersFile, ClusterUsers {

    /** A user as kept: role, salted hash, and the generation every change to the user moves. */
    record User(Role role, String hash, long generation) {
        Account account() {
            return new Account(role, generation);
        }
    }

    /** A change to the users, read and written under the store's lock (and the file's, for a file). */
    @FunctionalInterface
    interface Change<T> {
        T apply() throws IOException;
    }

    /** The users as kept now, into {@code users}. */
    void load(Map<String, User> users) throws IOException;

    /**
     * Brings {@code users} up to date with changes made elsewhere, adding the names removed or changed to
     * {@code changed}. Caller holds the store's lock.
     */
    void refresh(Map<String, User> users, Set<String> changed) throws IOException;

    /** Whether a change made elsewhere may be waiting: cheap, called on every request. */
    boolean mayHaveChanged() throws IOException;

    /** Runs {@code change} holding what keeps others from changing the users meanwhile. */
    <T> T locked(Change<T> change) throws IOException;

    /** Writes the change to {@code username} ({@code users} holds every user as it is now). */
    void save(String username, Map<String, User> users) throws IOException;

    /** Whether there are users to sign in with. */
    boolean exists(Map<String, User> users);

    /** Whether the users are the cluster's. */
    boolean shared();

    /** Returns once every change made anywhere before the call is in the store. */
    void sync();
}
