package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The idle gateway benchmark measures a node started with {@link GatewayProcess#DOCUMENTED_JVM_OPTIONS}
 * and the class-data archive {@code carerelay-cds.sh} writes: those must be the options and the
 * archive the README's {@code java -jar} lines and the systemd unit ship, or the benchmark measures
 * something nobody runs.
 */
class DocumentedJvmOptionsTest {

    private static final Path ROOT = GatewayProcess.repositoryRoot();

    @Test
    void readmeJavaJarLines_startTheGatewayWithTheOptionsTheBenchmarkMeasures() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        var lines = readme.lines().filter(line -> line.contains(" -jar gateway-app/target/carerelay/carerelay.jar")).toList();
        assertThat(lines).isNotEmpty();
        assertThat(lines).allSatisfy(line -> assertThat(line).contains("java " + GatewayProcess.DOCUMENTED_JVM_OPTIONS
                + " -XX:SharedArchiveFile=gateway-app/target/carerelay/carerelay.jsa -jar gateway-app/target/carerelay/carerelay.jar"));
        // the archive is written for the very jar path string and options of that line
        assertThat(readme).contains("\ngateway-app/target/carerelay/carerelay-cds.sh gateway-app/target/carerelay/carerelay.jsa"
                + " gateway-app/target/carerelay/carerelay.jar " + GatewayProcess.DOCUMENTED_JVM_OPTIONS + " ");
    }

    @Test
    void systemdUnit_startsTheGatewayWithTheOptionsTheBenchmarkMeasures() throws IOException {
        String unit = Files.readString(ROOT.resolve("deploy").resolve("systemd").resolve("carerelay.service"));
        assertThat(unit).contains("Environment=\"JAVA_OPTS=" + GatewayProcess.DOCUMENTED_JVM_OPTIONS + "\"");
        // the class-data archive: written for the jar and options that ExecStart uses, by the same java
        assertThat(unit).contains("\nEnvironment=JAVA=/usr/bin/java\n",
                "\nExecStartPre=-+/opt/carerelay/carerelay-cds.sh /opt/carerelay/carerelay.jsa /opt/carerelay/carerelay.jar $JAVA_OPTS\n",
                "\nExecStart=/usr/bin/java $JAVA_OPTS -XX:SharedArchiveFile=/opt/carerelay/carerelay.jsa -jar /opt/carerelay/carerelay.jar\n");
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
