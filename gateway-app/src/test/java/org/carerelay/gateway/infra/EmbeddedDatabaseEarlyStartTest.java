package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.carerelay.gateway.config.CareRelayProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.io.support.SpringFactoriesLoader;

/**
 * The embedded PostgreSQL starts while the context is still being built, through the real
 * {@code SpringApplication} and {@code META-INF/spring.factories}: the database bean takes that
 * server, and a context that fails or closes before the bean took it leaves no server running.
 */
class EmbeddedDatabaseEarlyStartTest {

    @Test
    void theDatabaseBeanTakesTheServerStartedBeforeTheBeans(@TempDir Path dataDir) throws Exception {
        try (ConfigurableApplicationContext context = run(dataDir, WithDatabase.class)) {
            // the bean took it: it is that very server, and nobody else can take it
            assertThat(context.getBean(DatabaseConfiguration.EmbeddedDatabase.class)).isSameAs(starting(context).started());
            assertThatThrownBy(starting(context)::claim).isInstanceOf(IllegalStateException.class);
            assertThat(Path.of(setting(context, "data_directory")).toRealPath()).isEqualTo(dataDir.resolve("postgres").toRealPath());
            assertThat(postmasterPid(dataDir)).exists();
        }
        assertThat(postmasterPid(dataDir)).doesNotExist(); // stopped with the context, by the bean
    }

    @Test
    void aContextClosedBeforeTheBeanTookTheServer_stopsIt(@TempDir Path dataDir) {
        ConfigurableApplicationContext context = run(dataDir, WithoutDatabase.class);
        starting(context).started();
        assertThat(postmasterPid(dataDir)).exists();
        context.close();
        assertThat(postmasterPid(dataDir)).doesNotExist();
        assertThat(dataDir.resolve("postgres").resolve("PG_VERSION")).exists(); // it had started
    }

    @Test
    void aStartThatFailsBeforeTheBeanTookTheServer_stopsIt(@TempDir Path dataDir) {
        assertThatThrownBy(() -> run(dataDir, Failing.class))
                .hasRootCauseMessage("a bean that cannot be made");
        assertThat(postmasterPid(dataDir)).doesNotExist();
        assertThat(dataDir.resolve("postgres").resolve("PG_VERSION")).exists();
    }

    @Test
    void withAnExternalDatabase_nothingStartsEarly(@TempDir Path dataDir) {
        try (ConfigurableApplicationContext context = run(dataDir, WithoutDatabase.class,
                "--carerelay.db.url=jdbc:postgresql://localhost:1/none", "--carerelay.broker.url=tcp://localhost:1")) {
            assertThat(context.containsBean(EmbeddedDatabaseEarlyStart.BEAN_NAME)).isFalse();
        }
        assertThat(dataDir.resolve("postgres")).doesNotExist();
    }

    @Test
    void settingsChangedAfterTheEarlyStart_theBeanStartsTheServerTheyAskFor(@TempDir Path dataDir) throws Exception {
        // as a bean factory post-processor's property source does (the throughput benchmark's)
        try (ConfigurableApplicationContext context = run(dataDir, WithDatabaseMadeDurableLate.class)) {
            assertThat(context.getBean(DatabaseConfiguration.EmbeddedDatabase.class)).isNotSameAs(starting(context).started());
            assertThat(setting(context, "fsync")).isEqualTo("on"); // the early one, without, was stopped for it
        }
        assertThat(postmasterPid(dataDir)).doesNotExist();
    }

    @Test
    void runsAfterTheStartupChecks_whichHoldTheDataDirectoryLockByThen() {
        List<ApplicationContextInitializer> initializers = SpringFactoriesLoader.forDefaultResourceLocation()
                .load(ApplicationContextInitializer.class);
        List<Class<?>> ours = initializers.stream().<Class<?>>map(Object::getClass)
                .filter(type -> type == StartupChecks.class || type == EmbeddedDatabaseEarlyStart.class)
                .toList();
        assertThat(ours).containsExactly(StartupChecks.class, EmbeddedDatabaseEarlyStart.class);
    }

    /** The settings on the command line: they come before the gateway's application.yml. */
    private static ConfigurableApplicationContext run(Path dataDir, Class<?> configuration, String... settings) {
        SpringApplication application = new SpringApplication(configuration);
        application.setWebApplicationType(WebApplicationType.NONE);
        List<String> args = new ArrayList<>(List.of("--carerelay.data-dir=" + dataDir, "--carerelay.db.embedded-durable=false",
                "--carerelay.hl7.enabled=false", "--server.port=0"));
        args.addAll(List.of(settings));
        return application.run(args.toArray(String[]::new));
    }

    private static EmbeddedDatabaseEarlyStart.Starting starting(ConfigurableApplicationContext context) {
        return context.getBean(EmbeddedDatabaseEarlyStart.BEAN_NAME, EmbeddedDatabaseEarlyStart.Starting.class);
    }

    /** A setting of the server the context's pool connects to. */
    private static String setting(ConfigurableApplicationContext context, String name) throws Exception {
        try (Connection connection = context.getBean(DataSource.class).getConnection();
                Statement statement = connection.createStatement();
                ResultSet rows = statement.executeQuery("select current_setting('" + name + "')")) {
            assertThat(rows.next()).isTrue();
            return rows.getString(1);
        }
    }

    private static Path postmasterPid(Path dataDir) {
        return dataDir.resolve("postgres").resolve("postmaster.pid");
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(CareRelayProperties.class)
    @Import(DatabaseConfiguration.class)
    static class WithDatabase {
    }

    @Configuration(proxyBeanMethods = false)
    static class WithoutDatabase {
    }

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties(CareRelayProperties.class)
    @Import(DatabaseConfiguration.class)
    static class WithDatabaseMadeDurableLate {
        @Bean
        static BeanFactoryPostProcessor durable(ConfigurableEnvironment environment) {
            return beanFactory -> environment.getPropertySources().addFirst(
                    new MapPropertySource("late", Map.of("carerelay.db.embedded-durable", true)));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Failing {
        /** Fails once the early start has finished, so a server is running when the start fails. */
        @Bean
        String unmakeable(ObjectProvider<EmbeddedDatabaseEarlyStart.Starting> starting) {
            starting.getObject().started();
            throw new IllegalStateException("a bean that cannot be made");
        }
    }
}
