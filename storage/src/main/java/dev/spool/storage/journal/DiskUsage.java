package dev.spool.storage.journal;

import net.openhft.posix.OpenFlag;
import net.openhft.posix.PosixAPI;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Bytes a folder's files really occupy. Journal files are sparse (large apparent size, little data),
 * so data extents are summed with {@code lseek(SEEK_DATA/SEEK_HOLE)}; where that is not available the
 * apparent size is used.
 */
final class DiskUsage {
    private static final int SEEK_DATA = 3;
    private static final int SEEK_HOLE = 4;

    private DiskUsage() {
    }

    static long of(Path root) throws IOException {
        long total = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(p)) {
                    total += fileBytes(p);
                }
            }
        }
        return total;
    }

    private static long fileBytes(Path p) throws IOException {
        long apparent = Files.size(p);
        PosixAPI posix;
        int fd;
        try {
            posix = PosixAPI.posix();
            fd = posix.open(p.toString(), OpenFlag.O_RDONLY, 0);
        } catch (RuntimeException | LinkageError e) {
            return apparent;
        }
        if (fd < 0) {
            return apparent;
        }
        try {
            long total = 0;
            long pos = 0;
            while (pos < apparent) {
                long data = posix.lseek(fd, pos, SEEK_DATA);
                if (data < 0) {
                    break;
                }
                long hole = posix.lseek(fd, data, SEEK_HOLE);
                if (hole <= data) {
                    return apparent;
                }
                total += hole - data;
                pos = hole;
            }
            return total;
        } finally {
            posix.close(fd);
        }
    }
}
