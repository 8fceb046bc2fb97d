package dev.spool.benchmarks.drill;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The drill's damage to a stopped broker's files ({@code --corrupt}). */
final class FileDamage {
    private FileDamage() {
    }

    /** Damages the broker's data folder {@code data} while the broker is down, as the options ask. */
    static void apply(DrillOptions.Corruption corruption, Path data) throws IOException {
        switch (corruption) {
            case NONE -> {
            }
            case CHECKPOINT -> Files.write(data.resolve("queues.json"), "{\"format\": \"spool-checkpoint\", garbage"
                    .getBytes(StandardCharsets.US_ASCII));
            case JOURNAL_TAIL -> {
                try (Stream<Path> files = Files.walk(data.resolve("queues"))) {
                    // Journal files only, as the option says: a queue's and (the same kind of file) none of its state
                    // logs, which the storage tests tear on their own (TornWriteTest, CursorTornWriteTest).
                    for (Path f : files.filter(p -> p.toString().endsWith(".cq4")
                            && p.getParent().getFileName().toString().equals("journal")).toList()) {
                        tearTail(f);
                    }
                }
            }
        }
    }

    /** Cuts a journal file a few bytes before the end of its data, mid-entry. */
    static void tearTail(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            long len = f.length();
            byte[] buf = new byte[1 << 16];
            for (long end = len; end > 0; end -= buf.length) {
                long start = Math.max(0, end - buf.length);
                f.seek(start);
                f.readFully(buf, 0, (int) (end - start));
                for (int i = (int) (end - start) - 1; i >= 0; i--) {
                    if (buf[i] != 0) {
                        f.setLength(Math.max(0, start + i - 20));
                        return;
                    }
                }
            }
        }
    }
}
