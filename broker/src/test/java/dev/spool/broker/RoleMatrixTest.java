package dev.spool.broker;

import dev.spool.broker.auth.Role;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every role against every endpoint: allowed calls succeed, the others are 403 with code FORBIDDEN. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoleMatrixTest {
    TestBroker b;
    private final AtomicInteger n = new AtomicInteger();

    enum Endpoint {
        LIST("GET", "/queues", EnumSet.allOf(Role.class), 200),
        STATS("GET", "/queues/{q}", EnumSet.allOf(Role.class), 200),
        CREATE("POST", "/queues/{new}", EnumSet.of(Role.ADMINISTRATOR), 201),
        DELETE("DELETE", "/queues/{q}", EnumSet.of(Role.ADMINISTRATOR), 200),
        PUSH("POST", "/queues/{q}/messages", EnumSet.of(Role.AGENT, Role.SECRETARY, Role.ADMINISTRATOR), 201),
        PULL("GET", "/queues/{q}/messages/first", EnumSet.of(Role.AGENT, Role.ADMINISTRATOR), 200);

        final String method;
        final String path;
        final Set<Role> allowed;
        final int success;

        Endpoint(String method, String path, Set<Role> allowed, int success) {
            this.method = method;
            this.path = path;
            this.allowed = allowed;
            this.success = success;
        }
    }

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        b = new TestBroker(dir);
    }

    @AfterAll
    void stop() {
        b.close();
    }

    Stream<Arguments> matrix() {
        List<Arguments> all = new ArrayList<>();
        for (Endpoint e : Endpoint.values()) {
            for (Role r : Role.values()) {
                all.add(Arguments.of(e, r));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{1} {0}")
    @MethodSource("matrix")
    void roleShouldGetSuccessOnlyWhereAllowed(Endpoint e, Role role) throws Exception {
        String q = "m" + n.incrementAndGet();
        assertEquals(201, b.admin("POST", "/queues/" + q, null).statusCode());
        b.admin("POST", "/queues/" + q + "/messages", "{\"body\":{\"x\":1}}");
        String path = e.path.replace("{q}", q).replace("{new}", q + "-new");
        String body = e == Endpoint.PUSH ? "{\"body\":{\"x\":2}}" : null;
        HttpResponse<String> r = b.as(role, e.method, path, body);
        if (e.allowed.contains(role)) {
            assertEquals(e.success, r.statusCode(), r.body());
        } else {
            assertEquals(403, r.statusCode(), r.body());
            assertEquals("FORBIDDEN", TestBroker.json(r).path("code").asText());
        }
    }

    @ParameterizedTest(name = "anonymous {0}")
    @MethodSource("endpoints")
    void anonymousShouldGet401Everywhere(Endpoint e) throws Exception {
        HttpResponse<String> r = b.send(e.method, e.path.replace("{q}", "x").replace("{new}", "y"), null,
                e == Endpoint.PUSH ? "{\"body\":{}}" : null);
        assertEquals(401, r.statusCode());
        assertEquals("UNAUTHORIZED", TestBroker.json(r).path("code").asText());
    }

    Stream<Endpoint> endpoints() {
        return Stream.of(Endpoint.values());
    }
}
