package dev.spool.storage.journal;

import dev.spool.storage.QueueStore;
import dev.spool.storage.QueueStoreContractTest;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The port's contract suite on the journal store (every guarantee exact, so nothing is skipped). */
class JournalContractTest extends QueueStoreContractTest {
    @TempDir
    Path dir;

    @Override
    protected QueueStore open() {
        return JournalQueueStore.open(StoreTestSupport.config(dir), MARK);
    }
}
