package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.storage.AtomicFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The store's {@code queues/} folder: one folder a queue, created under a temporary name and renamed into place,
 * deleted by renaming it away before removing its files, so a crash never leaves half a queue; and the scan at
 * start that finds the queues to open. Used under the store's admin lock.
 */
final class QueueFolders {
    private static final Logger LOG = LoggerFactory.getLogger(QueueFolders.class);
    static final String QUEUES_DIR = "queues";
    private static final String CREATING = ".creating-";
    private static final String DELETING = ".deleting-";

    /** A queue found at start, with its checkpoint entry (null if the checkpoint did not know it). */
    record Found(Path dir, QueueMeta meta, Checkpoint.Entry entry) {
    }

    private final Path queuesDir;
    private final ObjectMapper json;
    private final AtomicLong tempCounter = new AtomicLong();

    QueueFolders(Path storeDir, ObjectMapper json) {
        this.queuesDir = storeDir.resolve(QUEUES_DIR);
        this.json = json;
    }

    Path root() {
        return queuesDir;
    }

    /**
     * Lists the queues to open, trusting each folder's own files over the checkpoint (they are newer); removes
     * what an unfinished create or delete left (neither was acknowledged, so neither happened).
     */
    List<Found> scan(Map<String, Checkpoint.Entry> saved) throws IOException {
        Files.createDirectories(queuesDir);
        Map<String, Checkpoint.Entry> unseen = new HashMap<>(saved);
        List<Found> found = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(queuesDir)) {
            for (Path dir : dirs) {
                String dirName = dir.getFileName().toString();
                if (dirName.startsWith(CREATING) || dirName.startsWith(DELETING)) {
                    deleteTree(dir);
                    continue;
                }
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                Checkpoint.Entry entry = unseen.remove(dirName);
                QueueMeta meta = readMeta(dir, dirName, entry);
                if (meta != null) {
                    found.add(new Found(dir, meta, entry));
                }
            }
        }
        for (String gone : unseen.keySet()) {
            LOG.info("queue '{}' is in the checkpoint but its folder is gone: it was deleted after the checkpoint",
                    gone);
        }
        return found;
    }

    private QueueMeta readMeta(Path dir, String dirName, Checkpoint.Entry entry) throws IOException {
        try {
            QueueMeta meta = QueueMeta.read(json, dir);
            if (!meta.name().equals(dirName)) {
                throw new IllegalArgumentException("name '" + meta.name() + "' differs from its folder");
            }
            return meta;
        } catch (IOException | RuntimeException e) {
            if (entry != null) {
                LOG.error("queue '{}': metadata file {} is damaged ({}); restoring it from the checkpoint",
                        dirName, dir.resolve(QueueMeta.FILE), e.toString());
                entry.meta().write(json, dir);
                return entry.meta();
            }
            LOG.error("queue '{}': metadata file {} is damaged ({}) and the checkpoint has no copy; the queue's "
                    + "files are left untouched in {} and the queue is not served", dirName,
                    dir.resolve(QueueMeta.FILE), e.toString(), dir);
            return null;
        }
    }

    /** Creates a new queue's files under a temporary name and renames them into place; returns its folder. */
    Path create(QueueMeta meta) throws IOException {
        Path tmp = queuesDir.resolve(CREATING + meta.name() + "-" + tempCounter.incrementAndGet());
        Path dir = queuesDir.resolve(meta.name());
        try {
            Queue.createFiles(tmp, meta, json);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            AtomicFile.syncDirectory(queuesDir);
            return dir;
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /** Renames a closed queue's folder away (durably), then removes its files. */
    void delete(Path dir, String name) throws IOException {
        Path gone = queuesDir.resolve(DELETING + name + "-" + tempCounter.incrementAndGet());
        Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.syncDirectory(queuesDir);
        deleteTree(gone);
    }

    private static void deleteTree(Path root) {
        try {
            FileTrees.delete(root);
        } catch (IOException e) {
            LOG.warn("could not remove {} completely: {} (it is ignored and retried at the next start)", root,
                    e.toString());
        }
    }
}
