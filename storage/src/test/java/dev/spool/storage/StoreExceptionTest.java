package dev.spool.storage;

import net.openhft.chronicle.core.io.IORuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class StoreExceptionTest {
    /** Twice the threshold, so the same file system is first roomy, then full. */
    private static final long TMPFS_BYTES = 2 * StoreException.LOW_SPACE_BYTES;

    @TempDir
    Path dir;
    private SmallFileSystem mounted;

    @AfterEach
    void unmount() throws Exception {
        if (mounted != null) {
            mounted.close();
        }
    }

    @Test
    @Timeout(30)
    void ioFailureWhereThereIsRoomShouldBeIo() throws Exception {
        assumeRoomy(dir);
        assertEquals(StoreException.Code.IO, StoreException.of("push", new IOException("Input/output error"), dir).code());
        assertEquals(StoreException.Code.IO, StoreException.of("push", new InternalError("a fault occurred"), dir).code());
        assertEquals(StoreException.Code.IO, StoreException.of("push",
                new UncheckedIOException(new IOException("Stale file handle")), dir.resolve("not/yet")).code());
    }

    @Test
    @Timeout(30)
    void operatingSystemSayingNoSpaceShouldBeDiskFullEvenWithBytesFree() throws Exception {
        // Out of inodes, or over a quota: the bytes free do not show it.
        assumeRoomy(dir);
        assertEquals(StoreException.Code.DISK_FULL, StoreException.of("push",
                new IORuntimeException(new IOException("No space left on device")), dir).code());
        assertEquals(StoreException.Code.DISK_FULL, StoreException.of("push",
                new IOException("Disk quota exceeded")).code());
    }

    @Test
    @Timeout(60)
    void failedWriteOnAFullFileSystemShouldBeDiskFullWhateverItsMessage() throws Exception {
        Path fs = mountTmpfs();
        assertEquals(StoreException.Code.IO, StoreException.of("push", new IOException("write failed"), fs).code(),
                "not full yet");

        IOException refused = fill(fs);

        Path queue = fs.resolve("queues/q/journal"); // need not exist
        assertEquals(StoreException.Code.DISK_FULL, StoreException.of("push", refused, queue).code());
        assertEquals(StoreException.Code.DISK_FULL, StoreException.of("push", new IOException("write failed"), queue).code());
        assertEquals(StoreException.Code.DISK_FULL, StoreException.of("push",
                new IORuntimeException(new IOException("write failed")), queue).code());
        assertEquals(StoreException.Code.DISK_FULL, StoreException.of("push",
                new FileSystemException(fs.resolve("fill").toString(), null, "Input/output error")).code(),
                "the overload without a path uses the file the exception names");
    }

    @Test
    @Timeout(60)
    void faultInAMappedFileOnAFullFileSystemShouldBeDiskFull() throws Exception {
        Path fs = mountTmpfs();
        fill(fs);

        InternalError fault = null;
        try (FileChannel ch = FileChannel.open(fs.resolve("mapped"), StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 20);
            try {
                for (int i = 0; i < map.capacity(); i += 4096) {
                    map.put(i, (byte) 1);
                }
            } catch (InternalError e) { // SIGBUS: no page to back the write
                fault = e;
            }
        }

        assertNotNull(fault, "writing a mapped file on a full file system should fault");
        assertEquals(StoreException.Code.DISK_FULL, StoreException.of("push", fault, fs.resolve("mapped")).code());
    }

    private static void assumeRoomy(Path p) throws IOException {
        long usable = Files.getFileStore(p).getUsableSpace();
        assumeTrue(usable > 4 * StoreException.LOW_SPACE_BYTES, "the temp folder has only " + usable + " bytes free");
    }

    /** A tiny tmpfs of our own, or the test is skipped (saying why). */
    private Path mountTmpfs() throws Exception {
        mounted = SmallFileSystem.mount(dir, "tmpfs", TMPFS_BYTES);
        return mounted.path();
    }

    /** Writes until the file system refuses; returns the refusal. */
    private static IOException fill(Path fs) throws IOException {
        try (FileChannel ch = FileChannel.open(fs.resolve("fill"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
            for (long written = 0; written <= TMPFS_BYTES; written += chunk.capacity()) {
                chunk.clear();
                try {
                    ch.write(chunk);
                } catch (IOException e) {
                    assertTrue(Files.getFileStore(fs).getUsableSpace() < StoreException.LOW_SPACE_BYTES);
                    return e;
                }
            }
        }
        throw new AssertionError("a " + TMPFS_BYTES + "-byte tmpfs took more than that");
    }
}
