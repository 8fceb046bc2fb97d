package dev.spool.broker.audit;

import dev.spool.broker.config.BrokerConfig.AuditCompress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Compresses rotated audit files ({@code audit.compress}), on the audit log's compressor thread. The system's
 * {@code zstd -1} is the default where it is installed: on full-body JSON lines it takes a quarter of the CPU of
 * {@code gzip -1} and makes files a third smaller (100 MB of peer-workload audit lines: 0.15 s against 0.60 s, 13.8
 * to 1 against 9.2 to 1). Otherwise the system's {@code gzip -1}, and only where there is no gzip, gzip in this JVM.
 * The programs run under {@code SCHED_IDLE} ({@code chrt --idle}) and {@code nice -n 19}, so they take only a core
 * nothing else wants. A compressed file is written to {@code <name>.<ext>.tmp} and renamed, then the plain file is
 * deleted: a crash leaves the plain file and at most a {@code .tmp}, which the next start drops.
 */
final class RotatedFileCompressor {
    private static final Logger LOG = LoggerFactory.getLogger(RotatedFileCompressor.class);
    static final String ZSTD_EXT = ".zst";
    static final String GZIP_EXT = ".gz";

    private final AuditCompress configured;
    /** What is used, decided at the first compression (AUTO and ZSTD look for the program then). */
    private AuditCompress resolved;

    RotatedFileCompressor(AuditCompress configured) {
        this.configured = configured;
    }

    boolean enabled() {
        return configured != AuditCompress.NONE;
    }

    /** Whether a rotated file's name says it is compressed already (by either program). */
    static boolean isCompressed(Path p) {
        String n = p.getFileName().toString();
        return n.endsWith(ZSTD_EXT) || n.endsWith(GZIP_EXT);
    }

    /** Compresses a rotated file; on failure it is kept plain and the failure logged. */
    void compress(Path plain) {
        if (!Files.exists(plain)) {
            return; // already deleted as one too many while it waited to be compressed
        }
        try {
            if (resolve() == AuditCompress.ZSTD) {
                if (writeAs(plain, ZSTD_EXT, tmp -> run("zstd", plain, tmp))) {
                    return;
                }
                LOG.warn("zstd no longer runs here: rotated audit files are gzipped from now on");
                resolved = AuditCompress.GZIP;
            }
            writeAs(plain, GZIP_EXT, tmp -> run("gzip", plain, tmp) || jvmGzip(plain, tmp));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private interface Writer {
        /** Writes the compressed file to {@code tmp}; false if the program is not there. */
        boolean write(Path tmp) throws IOException, InterruptedException;
    }

    /** Compresses to {@code <plain><ext>} through a {@code .tmp}; false if the writer had no program to run. */
    private static boolean writeAs(Path plain, String ext, Writer writer) throws InterruptedException {
        Path done = plain.resolveSibling(plain.getFileName() + ext);
        Path tmp = done.resolveSibling(done.getFileName() + ".tmp");
        try {
            if (!writer.write(tmp)) {
                deleteQuietly(tmp);
                return false;
            }
            Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
            Files.delete(plain);
        } catch (IOException | RuntimeException e) {
            LOG.error("compressing rotated audit file {} failed (kept uncompressed): {}", plain, e.toString());
            deleteQuietly(tmp);
        } catch (InterruptedException e) {
            deleteQuietly(tmp);
            throw e;
        }
        return true;
    }

    private static boolean jvmGzip(Path plain, Path tmp) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(plain);
             java.util.zip.GZIPOutputStream z = new FastGzip(Files.newOutputStream(tmp))) {
            in.transferTo(z);
        }
        return true;
    }

    private AuditCompress resolve() {
        if (resolved == null) {
            boolean zstd = configured != AuditCompress.GZIP && runs(List.of("zstd", "--version"));
            if (configured == AuditCompress.ZSTD && !zstd) {
                LOG.warn("audit.compress is zstd but no zstd program runs here: rotated audit files are gzipped "
                        + "instead (install zstd, or set audit.compress: gzip)");
            }
            resolved = zstd ? AuditCompress.ZSTD : AuditCompress.GZIP;
        }
        return resolved;
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", p, e.toString());
        }
    }

    /** Whether util-linux's chrt can put a command under SCHED_IDLE here: tried once, by the first compression. */
    private static final class Chrt {
        static final boolean WORKS = runs(List.of("chrt", "--idle", "0", "true"));
    }

    private static boolean runs(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Runs {@code program -1 -c from > to} at the lowest priority; false if the program (or nice) is not there, so
     * that gzip falls back to this JVM.
     */
    private static boolean run(String program, Path from, Path to) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (Chrt.WORKS) {
            // SCHED_IDLE: the compressor only takes a core nothing else wants, and a woken request thread preempts it
            // at once; nice alone still let it delay wake-ups.
            command.addAll(List.of("chrt", "--idle", "0"));
        }
        command.addAll(List.of("nice", "-n", "19", program, "-1", "-c"));
        if (program.equals("zstd")) {
            command.add("-q");
        }
        command.add(from.toString());
        Process p;
        try {
            p = new ProcessBuilder(command).redirectOutput(to.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException noProgram) {
            return false;
        }
        int status = p.waitFor();
        if (status == 126 || status == 127) {
            return false; // nice is there but the program is not
        }
        if (status != 0) {
            throw new IOException(program + " exited with status " + status);
        }
        return true;
    }

    /**
     * gzip at its fastest level: JSON lines still shrink about 8 to 1, at several times the speed of the default
     * level, which matters when a busy broker rotates a 100 MiB file every few seconds on two cores.
     */
    private static final class FastGzip extends java.util.zip.GZIPOutputStream {
        FastGzip(OutputStream out) throws IOException {
            super(out, 1 << 16);
            def.setLevel(java.util.zip.Deflater.BEST_SPEED);
        }
    }
}
