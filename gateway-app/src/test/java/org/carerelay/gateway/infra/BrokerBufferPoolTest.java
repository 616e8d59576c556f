package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.activemq.artemis.api.core.ActiveMQBuffer;
import org.apache.activemq.artemis.api.core.ActiveMQBuffers;
import org.junit.jupiter.api.Test;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.UrlResource;
import org.springframework.core.io.support.PropertiesLoaderUtils;

class BrokerBufferPoolTest {

    private static final int MIB = 1 << 20;

    @Test
    void setsOneMiBChunks_unlessTheOperatorChoseAValue() {
        String before = System.getProperty(BrokerBufferPool.MAX_ORDER_PROPERTY);
        try {
            System.clearProperty(BrokerBufferPool.MAX_ORDER_PROPERTY);
            assertThat(BrokerBufferPool.apply()).isTrue();
            assertThat(System.getProperty(BrokerBufferPool.MAX_ORDER_PROPERTY)).isEqualTo("7");

            System.setProperty(BrokerBufferPool.MAX_ORDER_PROPERTY, "9");
            new BrokerBufferPool().postProcessEnvironment(new StandardEnvironment(), null);
            assertThat(System.getProperty(BrokerBufferPool.MAX_ORDER_PROPERTY)).isEqualTo("9");
        } finally {
            if (before == null) {
                System.clearProperty(BrokerBufferPool.MAX_ORDER_PROPERTY);
            } else {
                System.setProperty(BrokerBufferPool.MAX_ORDER_PROPERTY, before);
            }
        }
    }

    @Test
    void isAnEnvironmentPostProcessorOfTheGateway() throws IOException {
        List<String> registered = new ArrayList<>();
        for (URL url : Collections.list(getClass().getClassLoader().getResources("META-INF/spring.factories"))) {
            String value = PropertiesLoaderUtils.loadProperties(new UrlResource(url))
                    .getProperty(EnvironmentPostProcessor.class.getName(), "");
            Arrays.stream(value.split(",")).map(String::strip).forEach(registered::add);
        }
        assertThat(registered).contains(BrokerBufferPool.class.getName());
    }

    /**
     * In a JVM of its own (Netty reads the setting once per JVM): the buffers Artemis' in-VM
     * connections take come from 1 MiB chunks after the post-processor ran, from Netty's 4 MiB chunks
     * without it, and the arena that served one keeps its chunk after the buffer was released.
     */
    @Test
    void inAFreshJvm_theInVmConnectionsBuffersComeFromOneMiBChunks() throws Exception {
        assertThat(probe(true)).containsExactly(String.valueOf(MIB), String.valueOf(MIB));
        assertThat(probe(false)).containsExactly(String.valueOf(4 * MIB), String.valueOf(4 * MIB));
    }

    private static List<String> probe(boolean postProcess) throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Probe.class.getName(), String.valueOf(postProcess));
        Path output = Files.createTempFile("netty-probe", ".txt");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the probe JVM did not end within 60 s: " + Files.readString(output));
            }
            String out = Files.readString(output, StandardCharsets.UTF_8);
            assertThat(process.exitValue()).as(out).isZero();
            return out.lines().filter(line -> line.startsWith("probe ")).map(line -> line.substring("probe ".length())).toList();
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /** Prints the pool's chunk size and the heap its arenas hold after one in-VM packet buffer was used and released. */
    public static final class Probe {
        public static void main(String[] args) {
            if (Boolean.parseBoolean(args[0])) {
                new BrokerBufferPool().postProcessEnvironment(new StandardEnvironment(), null);
            }
            ActiveMQBuffer buffer = ActiveMQBuffers.pooledBuffer(4096);
            buffer.writeBytes(new byte[4096]);
            buffer.release();
            var metric = PooledByteBufAllocator.DEFAULT.metric();
            System.out.println("probe " + metric.chunkSize());
            System.out.println("probe " + metric.usedHeapMemory()); // the arenas' chunks, in use or not
        }
    }
}
