package dev.spool.broker.http;

/** What the API would answer for a failure: for tests in other packages. */
public final class ProblemsProbe {
    private ProblemsProbe() {
    }

    /** The detail of the problem {@code t} is answered with. */
    public static String detail(Throwable t) {
        return Problems.classify(t).getMessage();
    }

    /** The code of the problem {@code t} is answered with. */
    public static String code(Throwable t) {
        return Problems.classify(t).code().name();
    }

    /** The HTTP status {@code t} is answered with. */
    public static int status(Throwable t) {
        return Problems.status(Problems.classify(t).code());
    }
}
