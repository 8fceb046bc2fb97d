package dev.spool.storage.journal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** An open queue, its group commit, and the dead-letter moves handed to the store's thread. */
final class OpenQueue {
    final Queue queue;
    final GroupCommit commit;
    /** Completes when every dead-letter move scheduled so far has finished. */
    volatile CompletableFuture<Void> moves = CompletableFuture.completedFuture(null);

    OpenQueue(Queue queue, GroupCommit commit) {
        this.queue = queue;
        this.commit = commit;
    }

    Queue queue() {
        return queue;
    }

    GroupCommit commit() {
        return commit;
    }

    /**
     * What a call that consumed from the queue waits for before it answers: its own changes' sync, and the
     * dead-letter moves it may have started, so a caller who saw a message dead-lettered finds it in the
     * dead-letter queue. Neither holds a thread.
     */
    <T> CompletionStage<T> settled(CompletableFuture<Void> synced, T result) {
        CompletableFuture<Void> pending = moves;
        if (synced.isDone() && pending.isDone() && !synced.isCompletedExceptionally()) {
            return CompletableFuture.completedFuture(result); // the common case under fsync none: no chain
        }
        return synced.thenCombine(pending, (a, b) -> result);
    }
}
