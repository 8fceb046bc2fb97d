package dev.spool.broker.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Issue 11: openapi.yaml lists exactly the error codes the broker can answer. */
@Timeout(60)
class ErrorCodeDocumentTest {
    @Test
    void theProblemSchemaShouldListEveryErrorCode() throws Exception {
        Map<?, ?> doc;
        try (InputStream in = OpenApi.class.getResourceAsStream("openapi.yaml")) {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
        }
        Map<?, ?> problem = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) doc.get("components")).get("schemas")).get("Problem");
        List<?> documented = (List<?>) ((Map<?, ?>) ((Map<?, ?>) problem.get("properties")).get("code")).get("enum");
        assertEquals(new TreeSet<>(Arrays.stream(ErrorCode.values()).map(Enum::name).toList()),
                new TreeSet<>(documented.stream().map(String::valueOf).toList()));
    }
}
