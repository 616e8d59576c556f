package org.carerelay.gateway.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The unpacked application the package phase writes (target/carerelay: carerelay.jar and lib/),
 * which the README's {@code java -jar} line and the systemd unit start: the jar names the main
 * class, every library its manifest's {@code Class-Path} lists is there, and a class loader over
 * the jar alone (as {@code java -jar} makes one) finds the gateway and the libraries it starts with.
 * Runs after {@code package} (failsafe).
 */
class ExtractedLayoutIT {

    private static final Path DIR = Paths.get(System.getProperty("extracted.dir", "target/carerelay"));

    @Test
    void carerelayJar_namesItsMainClassAndEveryLibraryIsNextToIt() throws IOException {
        Path jar = DIR.resolve("carerelay.jar");
        assertThat(jar).as("the package phase unpacks the executable jar").isRegularFile();
        try (JarFile file = new JarFile(jar.toFile())) {
            Attributes main = file.getManifest().getMainAttributes();
            assertThat(main.getValue(Attributes.Name.MAIN_CLASS)).isEqualTo("org.carerelay.gateway.CareRelayApplication");
            List<String> classPath = Arrays.asList(main.getValue(Attributes.Name.CLASS_PATH).split(" "));
            assertThat(classPath).hasSizeGreaterThan(100).allSatisfy(entry -> {
                assertThat(entry).startsWith("lib/");
                assertThat(DIR.resolve(entry)).isRegularFile();
            });
            try (var libs = Files.list(DIR.resolve("lib"))) {
                assertThat(libs.map(p -> "lib/" + p.getFileName()).toList())
                        .as("nothing in lib/ that the jar does not use").containsExactlyInAnyOrderElementsOf(classPath);
            }
        }
    }

    @Test
    void aClassLoaderOverTheJarAlone_findsTheGatewayAndItsLibraries() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {DIR.resolve("carerelay.jar").toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            for (String name : List.of("org.carerelay.gateway.CareRelayApplication", "org.carerelay.routes.crypto.CmsAttachmentCrypto",
                    "org.springframework.boot.SpringApplication", "org.apache.camel.CamelContext",
                    "ca.uhn.fhir.context.FhirContext", "org.apache.activemq.artemis.core.server.ActiveMQServer",
                    "io.zonky.test.db.postgres.embedded.EmbeddedPostgres")) {
                assertThat(Class.forName(name, false, loader).getClassLoader()).as(name).isSameAs(loader);
            }
        }
    }
}
