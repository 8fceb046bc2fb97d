package dev.spool.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static dev.spool.storage.StoreTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AtomicFileTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void writeShouldReplaceTheWholeContentAndLeaveNoTempFile() throws Exception {
        Path file = dir.resolve("state.json");
        AtomicFile.write(file, bytes("a long first version of the file"));

        AtomicFile.write(file, bytes("short"));

        assertArrayEquals(bytes("short"), Files.readAllBytes(file));
        assertFalse(Files.exists(dir.resolve("state.json.tmp")));
    }

    @Test
    @Timeout(30)
    void writeOwnerOnlyShouldReplaceTheWholeContentAndLeaveNoTempFile() throws Exception {
        Path file = dir.resolve("secrets.yaml");
        AtomicFile.writeOwnerOnly(file, bytes("a long first version of the file"));

        AtomicFile.writeOwnerOnly(file, bytes("short"));

        assertArrayEquals(bytes("short"), Files.readAllBytes(file));
        assertFalse(Files.exists(dir.resolve("secrets.yaml.tmp")));
    }

    @Test
    @Timeout(30)
    void writeOwnerOnlyShouldLeaveAFileOnlyItsOwnerCanReadEvenOverWiderOnes() throws Exception {
        assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"), "POSIX permissions needed");
        Path file = dir.resolve("secrets.yaml");
        Files.writeString(file, "old");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        Path leftover = dir.resolve("secrets.yaml.tmp"); // as a crash mid-write would leave it
        Files.writeString(leftover, "torn");
        Files.setPosixFilePermissions(leftover, PosixFilePermissions.fromString("rw-rw-rw-"));

        AtomicFile.writeOwnerOnly(file, bytes("new"));

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("new", Files.readString(file));
        assertFalse(Files.exists(leftover));
    }
}
