package dev.spool.broker;

import dev.spool.broker.auth.Role;
import dev.spool.broker.auth.UserStore;
import dev.spool.storage.ChildJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The users file is changed by the broker (the users API) and by {@code user add} in other processes at the same
 * time: each change reads, changes and rewrites the whole file, so without the file's lock one would undo another.
 */
@Timeout(180)
class UsersFileLockTest {
    @TempDir
    Path dir;

    @Test
    void userAddInOtherProcessesAndChangesInTheBrokerShouldNeverUndoEachOther() throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, "server:\n  port: 0\n");
        Path file = dir.resolve("users.yaml");
        UserStore broker = UserStore.load(file);
        List<Process> adds = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Process p = new ProcessBuilder(ChildJvm.command(Main.class.getName(), "user", "add", "child" + i,
                    "--role", "AGENT", "--config", config.toString())).redirectErrorStream(true).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write("child-password-1234\n".getBytes(StandardCharsets.UTF_8));
            }
            adds.add(p);
        }
        // Meanwhile this process adds users one after another, as the broker does for POST /users: each add spends
        // most of its time hashing between reading the file and writing it.
        int mine = 0;
        do {
            assertTrue(broker.create("parent" + mine++, Role.BASIC, "parent-password-1234".toCharArray()));
        } while (adds.stream().anyMatch(Process::isAlive));
        for (Process p : adds) {
            outputs.add(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertEquals(0, p.waitFor(), String.join("\n", outputs));
        }
        Set<String> names = UserStore.load(file).list().stream().map(UserStore.Entry::username)
                .collect(Collectors.toSet());
        for (int i = 0; i < adds.size(); i++) {
            assertTrue(names.contains("child" + i), "child" + i + " kept: " + names);
        }
        for (int j = 0; j < mine; j++) {
            assertTrue(names.contains("parent" + j), "parent" + j + " kept: " + names);
        }
        assertEquals(adds.size() + mine, names.size(), names.toString());
    }
}
