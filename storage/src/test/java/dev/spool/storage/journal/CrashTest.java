package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.ChildJvm;
import dev.spool.storage.Message;
import dev.spool.storage.PullResult;
import dev.spool.storage.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kills a child JVM that pushes and pulls with SIGKILL at random moments, then checks the guarantees. */
class CrashTest {
    private static final int KILLS = 6;

    @TempDir
    Path dir;

    @Test
    @Timeout(300)
    void killMinusNineShouldLoseNoAcknowledgedPushAndRepeatNoPull() throws Exception {
        Random random = new Random();
        for (int round = 0; round < KILLS; round++) {
            Process child = startChild(random.nextLong());
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line = out.readLine();
                assertEquals("READY", line, "child did not start");
                // A random moment in the child's push/pull loop.
                Thread.sleep(100 + random.nextInt(600));
                child.destroyForcibly(); // SIGKILL on Linux
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
                assertEquals(137, child.exitValue(), "killed by SIGKILL");
            }
        }
        Set<Long> acked = new HashSet<>();
        List<Long> delivered = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("acks.log"))) {
            if (line.startsWith("P ")) {
                acked.add(Long.parseLong(line.substring(2)));
            } else if (line.startsWith("D ")) {
                delivered.add(Long.parseLong(line.substring(2)));
            }
        }
        assertTrue(acked.size() > 1000, "the child did real work: " + acked.size());
        try (JournalQueueStore s = JournalQueueStore.open(StoreConfig.defaults(dir.resolve("queues.json")))) {
            long lastDelivered = delivered.stream().mapToLong(Long::longValue).max().orElse(0);
            while (Blocking.pull(s, "q") instanceof PullResult.Message m) {
                assertTrue(m.id() > lastDelivered, "id " + m.id() + " was delivered before the crash");
                delivered.add(m.id());
            }
        }
        Set<Long> unique = new HashSet<>(delivered);
        assertEquals(delivered.size(), unique.size(), "no message is delivered twice");
        Set<Long> lost = new HashSet<>(acked);
        lost.removeAll(unique);
        // A pull in flight at a kill may have moved the cursor without its D line being written: at most
        // one message per kill can be consumed unrecorded, and it is always the one after the last D line.
        assertTrue(lost.size() <= KILLS, "acknowledged pushes lost: " + lost);
    }

    private Process startChild(long seed) throws Exception {
        return new ProcessBuilder(ChildJvm.command(CrashWorker.class.getName(), dir.toString(), Long.toString(seed)))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}
