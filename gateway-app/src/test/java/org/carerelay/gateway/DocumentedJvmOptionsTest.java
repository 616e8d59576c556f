package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The idle gateway benchmark measures a node started with {@link GatewayProcess#DOCUMENTED_JVM_OPTIONS}:
 * those must be the options the README's {@code java -jar} lines and the systemd unit ship, or the
 * benchmark measures something nobody runs.
 */
class DocumentedJvmOptionsTest {

    private static final Path ROOT = GatewayProcess.repositoryRoot();

    @Test
    void readmeJavaJarLines_startTheGatewayWithTheOptionsTheBenchmarkMeasures() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        var lines = readme.lines().filter(line -> line.contains(" -jar gateway-app/target/carerelay/carerelay.jar")).toList();
        assertThat(lines).isNotEmpty();
        assertThat(lines).allSatisfy(line -> assertThat(line)
                .contains("java " + GatewayProcess.DOCUMENTED_JVM_OPTIONS + " -jar gateway-app/target/carerelay/carerelay.jar"));
    }

    @Test
    void systemdUnit_startsTheGatewayWithTheOptionsTheBenchmarkMeasures() throws IOException {
        String unit = Files.readString(ROOT.resolve("deploy").resolve("systemd").resolve("carerelay.service"));
        assertThat(unit).contains("Environment=\"JAVA_OPTS=" + GatewayProcess.DOCUMENTED_JVM_OPTIONS + "\"");
    }

    /**
     * The container image and the Kubernetes manifests size the heap from the memory limit instead
     * of {@code -Xmx} and leave the collector to the JVM (serial below 1,792 MB), but shape the
     * heap with the same options as the benchmarked node, and hand back freed native memory as it does.
     */
    @Test
    void containerImageAndKubernetes_shapeTheHeapAsTheBenchmarkedNode() throws IOException {
        List<String> shaping = Arrays.stream(GatewayProcess.DOCUMENTED_JVM_OPTIONS.split(" "))
                .filter(option -> option.contains("HeapFreeRatio=") || option.startsWith("-XX:TrimNativeHeapInterval="))
                .toList();
        assertThat(shaping).hasSize(3);
        String pom = Files.readString(ROOT.resolve("gateway-app").resolve("pom.xml"));
        String configMap = Files.readString(ROOT.resolve("deploy").resolve("kubernetes").resolve("configmap.yaml"));
        String javaToolOptions = configMap.lines().filter(line -> line.strip().startsWith("JAVA_TOOL_OPTIONS:"))
                .findFirst().orElseThrow();
        for (String option : shaping) {
            assertThat(pom).contains("<jvmFlag>" + option + "</jvmFlag>");
            assertThat(javaToolOptions).contains(" " + option);
        }
    }
}
