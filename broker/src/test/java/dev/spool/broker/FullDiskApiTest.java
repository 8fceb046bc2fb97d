package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.broker.auth.Role;
import dev.spool.storage.SmallFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Defect 11 over HTTP, on a real small file system: a full disk is 507 problem+json (never 500), the
 * broker keeps serving pulls, acks and deletes, and pushes come back by themselves once space is freed.
 */
@Timeout(120)
class FullDiskApiTest {
    @TempDir
    Path dir;

    @Test
    void aFullDiskShouldBe507WhilePullsAndDeletesGoOnAndPushesResumeWhenSpaceReturns() throws Exception {
        try (SmallFileSystem fs = SmallFileSystem.mount(dir, "fs", 40L << 20)) {
            Path filler = fs.path().resolve("filler");
            try (RandomAccessFile f = new RandomAccessFile(filler.toFile(), "rw")) {
                f.write(new byte[8 << 20]);
            }
            String big = "x".repeat(60_000);
            try (TestBroker b = new TestBroker(fs.path(), "storage:\n  min_free_bytes: 4194304\naudit.enabled: false\n",
                    Clock.systemUTC())) {
                assertEquals(201, b.admin("POST", "/queues/q", "{\"max_length\":100000}").statusCode());
                assertEquals(201, b.admin("POST", "/queues/spare", null).statusCode());
                List<Long> stored = new ArrayList<>();
                HttpResponse<String> refused = null;
                for (int i = 0; i < 2_000 && refused == null; i++) {
                    HttpResponse<String> r = b.as(Role.AGENT, "POST", "/queues/q/messages",
                            "{\"body\":{\"i\":" + i + ",\"pad\":\"" + big + "\"}}");
                    if (r.statusCode() == 201) {
                        stored.add(TestBroker.json(r).path("id").asLong());
                    } else {
                        refused = r;
                    }
                }
                assertTrue(refused != null, "the disk filled up");
                assertEquals(507, refused.statusCode(), refused.body());
                assertEquals("application/problem+json", refused.headers().firstValue("Content-Type").orElse(""));
                assertEquals("DISK_FULL", TestBroker.json(refused).path("code").asText());
                assertTrue(fs.usable() > 0, "the floor kept room");

                JsonNode first = TestBroker.json(b.as(Role.AGENT, "GET", "/queues/q/messages/first", null));
                assertEquals(stored.get(0).longValue(), first.path("id").asLong(), "pulls go on");
                assertEquals(200, b.admin("DELETE", "/queues/spare", null).statusCode(), "deletes go on");
                assertEquals(200, b.send("POST", "/login", null,
                        "{\"username\":\"agent\",\"password\":\"" + TestBroker.PASSWORD + "\"}").statusCode());

                Files.delete(filler);
                long deadline = System.nanoTime() + 10_000_000_000L;
                int status = 0;
                while (status != 201 && System.nanoTime() < deadline) {
                    status = b.as(Role.AGENT, "POST", "/queues/q/messages", "{\"body\":{\"after\":true}}").statusCode();
                    assertTrue(status == 201 || status == 507, "only 201 or 507, was " + status);
                }
                assertEquals(201, status, "pushes resume by themselves once space is freed");
            }
        }
    }
}
