package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
        var lines = readme.lines().filter(line -> line.contains(" -jar gateway-app/target/gateway-app-*.jar")).toList();
        assertThat(lines).isNotEmpty();
        assertThat(lines).allSatisfy(line -> assertThat(line)
                .contains("java " + GatewayProcess.DOCUMENTED_JVM_OPTIONS + " -jar gateway-app/target/gateway-app-*.jar"));
    }

    @Test
    void systemdUnit_startsTheGatewayWithTheOptionsTheBenchmarkMeasures() throws IOException {
        String unit = Files.readString(ROOT.resolve("deploy").resolve("systemd").resolve("carerelay.service"));
        assertThat(unit).contains("Environment=\"JAVA_OPTS=" + GatewayProcess.DOCUMENTED_JVM_OPTIONS + "\"");
    }
}
