package dev.spool.broker.http;

import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpServerConnection;
import io.undertow.util.SameThreadExecutor;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import org.xnio.conduits.ConduitStreamSourceChannel;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;

/**
 * Long polls. A waiting request holds no thread: it is a small object in its queue's deque and a timer
 * on its connection's IO thread. The store announces when messages become available (pushed, released,
 * a lease expired, a delay ended, redriven, dead-lettered): {@link #signal} wakes as many waiters; each
 * retries on its own IO thread, so a waiter's retries, timeout and cancellation never race. A waiter
 * registers before its last attempt and the store announces after its change, so nothing goes unnoticed.
 */
public final class Waiters {
    /**
     * Tries to serve the request. The store decides at once whether anything was taken: a stage already
     * completed with null means nothing is available yet; any other stage holds a response body (perhaps
     * still waiting for its group commit), so one attempt never takes messages that are then dropped.
     */
    @FunctionalInterface
    interface Attempt {
        CompletionStage<byte[]> tryServe();
    }

    private final Map<String, ConcurrentLinkedDeque<Waiter>> byQueue = new ConcurrentHashMap<>();
    /** Runs between a signal choosing a waiter and waking it: for tests, which hold a race open there. */
    volatile Runnable afterChoosing;

    /** Wakes up to {@code n} waiters of the queue. Cheap when nobody waits. */
    public void signal(String queue, int n) {
        ConcurrentLinkedDeque<Waiter> d = byQueue.get(queue);
        if (d == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            Waiter w = d.poll();
            if (w == null) {
                return;
            }
            Runnable hook = afterChoosing;
            if (hook != null) {
                hook.run();
            }
            w.wake();
        }
    }

    /** Ends every wait now (the requests get their empty answer): for shutdown. */
    public void endAll() {
        for (ConcurrentLinkedDeque<Waiter> d : byQueue.values()) {
            for (Waiter w = d.poll(); w != null; w = d.poll()) {
                w.end();
            }
        }
    }

    /** Requests waiting now on a queue. */
    public int waiting(String queue) {
        ConcurrentLinkedDeque<Waiter> d = byQueue.get(queue);
        java.util.concurrent.atomic.AtomicInteger n = inside.get(queue);
        return (d == null ? 0 : d.size()) + (n == null ? 0 : n.get());
    }

    /**
     * Answers with the attempt's result, waiting up to {@code waitMillis} for one; answers {@code empty} when the
     * wait ends with nothing. The attempt is given how long the store itself should wait: all of it for a store
     * that {@link dev.spool.storage.StoreContract#waitsInside() waits inside}, else nothing.
     */
    <R> void serve(HttpServerExchange ex, String queue, long waitMillis, dev.spool.storage.StoreContract contract,
                   java.util.function.Function<java.time.Duration, CompletionStage<R>> call,
                   java.util.function.Function<R, byte[]> render, byte[] empty) throws Exception {
        boolean inside = contract.waitsInside();
        java.time.Duration storeWait = java.time.Duration.ofMillis(inside ? waitMillis : 0);
        if (inside && waitMillis > 0) {
            waitInside(ex, queue, call.apply(storeWait).toCompletableFuture(), render, empty);
            return;
        }
        serve(ex, queue, inside ? 0 : waitMillis, () -> call.apply(storeWait).thenApply(render), empty);
    }

    /** Long polls waiting inside the store, per queue (counted with the others in {@link #waiting}). */
    private final Map<String, java.util.concurrent.atomic.AtomicInteger> inside = new ConcurrentHashMap<>();

    /**
     * A long poll the store waits for: counted while it waits, and cancelled in the store when its client hangs up,
     * so that it never takes a message nobody will receive (the store's call, not the rendered answer, is cancelled:
     * cancelling a derived future does not reach its source).
     */
    private <R> void waitInside(HttpServerExchange ex, String queue, CompletableFuture<R> call,
                                java.util.function.Function<R, byte[]> render, byte[] empty) throws Exception {
        CompletableFuture<byte[]> answer = call.thenApply(render);
        java.util.concurrent.atomic.AtomicInteger count = null;
        if (!answer.isDone()) {
            java.util.concurrent.atomic.AtomicInteger n = inside.computeIfAbsent(queue,
                    q -> new java.util.concurrent.atomic.AtomicInteger());
            n.incrementAndGet();
            java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();
            answer.whenComplete((v, x) -> {
                if (over.compareAndSet(false, true)) {
                    n.decrementAndGet();
                }
            });
            count = n;
        }
        Exchanges.whenDone(ex, answer, (e, body) -> Json.send(e, 200, body != null ? body : empty));
        if (count != null) {
            // After whenDone's dispatch, on the exchange's IO thread, where the answer is also written.
            ex.getIoThread().execute(() -> {
                if (answer.isDone()) {
                    return;
                }
                ex.getConnection().addCloseListener(c -> call.cancel(false));
                watchForHangUp(ex, answer::isDone);
            });
        }
    }

    /** As above with the broker doing all the waiting: the attempt is retried on the store's signals. */
    private void serve(HttpServerExchange ex, String queue, long waitMillis, Attempt attempt, byte[] empty)
            throws Exception {
        CompletableFuture<byte[]> first = attempt.tryServe().toCompletableFuture();
        if (!nothing(first) || waitMillis <= 0) {
            Exchanges.whenDone(ex, first, (e, body) -> Json.send(e, 200, body != null ? body : empty));
            return;
        }
        Waiter w = new Waiter(ex, byQueue.computeIfAbsent(queue, q -> new ConcurrentLinkedDeque<>()), attempt, empty);
        ex.dispatch(SameThreadExecutor.INSTANCE, () -> ex.getIoThread().execute(() -> w.start(waitMillis)));
    }

    /** Whether an attempt found nothing (so the request may wait). */
    private static boolean nothing(CompletableFuture<byte[]> f) {
        return f.isDone() && !f.isCompletedExceptionally() && f.join() == null;
    }

    /** One waiting request; every method but {@link #wake} runs on the exchange's IO thread. */
    private static final class Waiter {
        private final HttpServerExchange ex;
        private final ConcurrentLinkedDeque<Waiter> deque;
        private final Attempt attempt;
        private final byte[] empty;
        private XnioExecutor.Key timer;
        private boolean done;

        Waiter(HttpServerExchange ex, ConcurrentLinkedDeque<Waiter> deque, Attempt attempt, byte[] empty) {
            this.ex = ex;
            this.deque = deque;
            this.attempt = attempt;
            this.empty = empty;
        }

        void start(long waitMillis) {
            timer = ex.getIoThread().executeAfter(this::timeout, waitMillis, TimeUnit.MILLISECONDS);
            // Close listeners run on this connection's IO thread.
            ex.getConnection().addCloseListener(c -> cancel());
            watchForHangUp();
            register();
        }

        /**
         * A request whose client has gone must not take messages it can no longer receive. The server reads nothing
         * while a request is in progress, so a client's hang-up would go unseen until the answer is written: read the
         * connection meanwhile. The end of the stream closes the connection (and so cancels the wait); bytes of a
         * pipelined request are handed back to the server for after this one.
         */
        private void watchForHangUp() {
            Waiters.watchForHangUp(ex, () -> done);
        }

        void wake() {
            ex.getIoThread().execute(this::retry);
        }

        void end() {
            ex.getIoThread().execute(this::timeout);
        }

        private void retry() {
            if (done) {
                // Timed out or cancelled after the signal chose it: the wake-up goes to the next waiter, else it
                // would wait on with a message available.
                Waiter next = deque.poll();
                if (next != null) {
                    next.wake();
                }
                return;
            }
            if (!answer()) {
                register();
            }
        }

        /** Registers, then attempts once more: a push between the last attempt and now is not missed. */
        private void register() {
            deque.add(this);
            if (answer()) {
                deque.remove(this);
            }
        }

        private boolean answer() {
            CompletableFuture<byte[]> r;
            try {
                r = attempt.tryServe().toCompletableFuture();
            } catch (Throwable t) {
                finish();
                Problems.send(ex, t);
                return true;
            }
            if (nothing(r)) {
                return false;
            }
            finish();
            try {
                Exchanges.whenDone(ex, r, (e, body) -> Json.send(e, 200, body));
            } catch (Throwable t) {
                Problems.send(ex, t);
            }
            return true;
        }

        private void timeout() {
            if (done) {
                return;
            }
            finish();
            deque.remove(this);
            Json.send(ex, 200, empty);
        }

        private void cancel() {
            if (!done) {
                finish();
                deque.remove(this);
            }
        }

        private void finish() {
            done = true;
            if (timer != null) {
                timer.remove();
            }
        }
    }

    /**
     * Reads the connection while a request waits, so that a hang-up is seen at once (the server reads nothing while a
     * request is in progress): the end of the stream closes the connection, which runs its close listeners; bytes
     * of a pipelined request are handed back to the server for after this one. Runs on the exchange's IO thread.
     */
    static void watchForHangUp(HttpServerExchange ex, java.util.function.BooleanSupplier done) {
        if (!(ex.getConnection() instanceof HttpServerConnection h)) {
            return; // HTTP/2 streams are cancelled by the protocol itself
        }
        ConduitStreamSourceChannel source = h.getChannel().getSourceChannel();
        source.setReadListener(ch -> {
            if (done.getAsBoolean()) {
                ch.suspendReads();
                return;
            }
            PooledByteBuffer buf = h.getByteBufferPool().allocate();
            boolean kept = false;
            try {
                int n = ch.read(buf.getBuffer());
                if (n < 0) {
                    IoUtils.safeClose(h);
                } else if (n > 0) {
                    buf.getBuffer().flip();
                    ch.suspendReads();
                    h.ungetRequestBytes(buf);
                    kept = true;
                }
            } catch (IOException e) {
                IoUtils.safeClose(h);
            } finally {
                if (!kept) {
                    buf.close();
                }
            }
        });
        source.resumeReads();
    }
}
