package dev.spool.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Whole-file replacement that a crash cannot tear: write a temp file beside the target, fsync it, rename
 * it over the target, fsync the folder. When a write returns, the new content is durable; a reader (or a
 * restart after a crash at any moment) sees the old file or the new one, never a mix. The temp file is
 * {@code <target>.tmp}; one left by a crash is replaced by the next write.
 *
 * <p>Not safe for concurrent writers of the same target (they share the temp file): callers serialize.
 */
public final class AtomicFile {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private AtomicFile() {
    }

    /** Replaces {@code target} with {@code content}; a new file gets the default permissions (umask). */
    public static void write(Path target, byte[] content) throws IOException {
        Path tmp = tempOf(target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeAndSync(ch, content);
        }
        replace(tmp, target);
    }

    /**
     * As {@link #write(Path, byte[])}, for files holding secrets (password hashes, token hashes): the
     * result is readable and writable by its owner only ({@code rw-------}) where the file system has
     * POSIX permissions. The temp file is created with those permissions, so no copy of the content is
     * ever readable by others, not even for a moment.
     */
    public static void writeOwnerOnly(Path target, byte[] content) throws IOException {
        Path tmp = tempOf(target);
        if (!Files.getFileStore(target.toAbsolutePath().getParent()).supportsFileAttributeView("posix")) {
            write(target, content);
            return;
        }
        // A temp file left by a crash may have wider permissions; CREATE would keep them.
        Files.deleteIfExists(tmp);
        Set<OpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileAttribute<Set<PosixFilePermission>> ownerOnly = PosixFilePermissions.asFileAttribute(OWNER_ONLY);
        try (FileChannel ch = FileChannel.open(tmp, options, ownerOnly)) {
            // The umask can only narrow the mode given at creation; set it exactly.
            Files.setPosixFilePermissions(tmp, OWNER_ONLY);
            writeAndSync(ch, content);
        }
        replace(tmp, target);
    }

    private static Path tempOf(Path target) {
        return target.resolveSibling(target.getFileName() + ".tmp");
    }

    private static void writeAndSync(FileChannel ch, byte[] content) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        ch.force(true);
    }

    private static void replace(Path tmp, Path target) throws IOException {
        // A rename is atomic: readers see the old file or the new one, never a mix.
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(target.toAbsolutePath().getParent());
    }

    /** Makes a rename or creation inside the folder durable. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
