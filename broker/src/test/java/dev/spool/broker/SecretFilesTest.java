package dev.spool.broker;

import dev.spool.broker.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The users and tokens files hold hashes: only their owner may read them. */
class SecretFilesTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void usersFileShouldBeReadableByItsOwnerOnlyAfterUserAdd() throws Exception {
        assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"), "POSIX permissions needed");
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "auth:\n  users_file: \"people.yaml\"\n");
        assertEquals(0, Main.execute(new String[] {"user", "add", "bob", "--role", "AGENT", "--config", config.toString()},
                new ByteArrayInputStream("s3cret passphrase\n".getBytes(StandardCharsets.UTF_8)),
                new PrintStream(OutputStream.nullOutputStream()), System.err));
        Path users = dir.resolve("people.yaml");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(users)));
        assertFalse(Files.exists(dir.resolve("people.yaml.tmp")));
    }

    @Test
    @Timeout(60)
    void tokensFileShouldBeReadableByItsOwnerOnlyAfterALogin() throws Exception {
        assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"), "POSIX permissions needed");
        try (TestBroker b = new TestBroker(dir)) { // signs in one user per role
            Path tokens = ConfigLoader.load(b.dir.resolve("config.yaml")).auth().tokensFile();
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokens)));
            assertFalse(Files.exists(tokens.resolveSibling(tokens.getFileName() + ".tmp")));
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(dir.resolve("users.yaml"))), "users written before the start");
        }
    }
}
