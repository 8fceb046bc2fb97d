package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Message;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;

/**
 * Child JVM for {@link CrashTest}: pushes and pulls in a loop and records, after each call returns,
 * what the store acknowledged ({@code P id}) and delivered ({@code D id}) in an append-only log, until
 * it is killed.
 */
public final class CrashWorker {
    private CrashWorker() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        Random random = new Random(seed);
        try (FileOutputStream log = new FileOutputStream(dir.resolve("acks.log").toFile(), true)) {
            JournalQueueStore s = JournalQueueStore.open(StoreConfig.defaults(dir.resolve("queues.json")));
            s.create("q", QueueOptions.ofMaxLength(10_000_000));
            System.out.println("READY");
            System.out.flush();
            while (true) {
                if (random.nextInt(3) > 0) {
                    PushResult r = Blocking.push(s, "q", ("payload-" + random.nextInt()).getBytes(StandardCharsets.UTF_8));
                    log.write(("P " + ((PushResult.Stored) r).firstId() + "\n").getBytes(StandardCharsets.US_ASCII));
                } else if (Blocking.pull(s, "q") instanceof PullResult.Message m) {
                    log.write(("D " + m.id() + "\n").getBytes(StandardCharsets.US_ASCII));
                }
            }
        }
    }
}
