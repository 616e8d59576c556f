package org.carerelay.gateway.infra;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.sql.DataSource;
import org.carerelay.gateway.config.CareRelayProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The database: the PostgreSQL server named by {@code carerelay.db.url}, or, when none is
 * configured, an embedded PostgreSQL (real server binaries) whose data stays in
 * {@code <data-dir>/postgres} across restarts.
 */
@Configuration(proxyBeanMethods = false)
public class DatabaseConfiguration {

    private static final Logger log = LoggerFactory.getLogger(DatabaseConfiguration.class);

    @Bean(destroyMethod = "close")
    DataSource dataSource(CareRelayProperties props, EmbeddedDatabase embedded) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("carerelay");
        config.setMaximumPoolSize(20);
        if (props.db().external()) {
            config.setJdbcUrl(props.db().url());
            config.setUsername(props.db().user());
            config.setPassword(props.db().password());
        } else {
            config.setJdbcUrl(embedded.jdbcUrl());
            config.setUsername("postgres");
        }
        return new HikariDataSource(config);
    }

    @Bean(destroyMethod = "close")
    EmbeddedDatabase embeddedDatabase(CareRelayProperties props) {
        if (props.db().external()) {
            return EmbeddedDatabase.NONE;
        }
        return EmbeddedDatabase.start(props.dataDir().toAbsolutePath().normalize(), props.db().embeddedDurable());
    }

    /** Owns the embedded server process, if one was started. */
    public static final class EmbeddedDatabase implements AutoCloseable {
        static final EmbeddedDatabase NONE = new EmbeddedDatabase(null);
        private final EmbeddedPostgres postgres;

        private EmbeddedDatabase(EmbeddedPostgres postgres) {
            this.postgres = postgres;
        }

        static EmbeddedDatabase start(Path dataDir, boolean durable) {
            Path pgData = dataDir.resolve("postgres");
            Path pgBin = dataDir.resolve("postgres-bin");
            try {
                Files.createDirectories(pgData);
                Files.createDirectories(pgBin);
                StalePostmaster.stop(pgData);
                // the embedded server's library defaults (fsync, synchronous_commit, full_page_writes off)
                // suit throwaway test databases; a commit the gateway acknowledges must survive a power loss
                String onOff = durable ? "on" : "off";
                EmbeddedPostgres pg = EmbeddedPostgres.builder()
                        .setServerConfig("fsync", onOff)
                        .setServerConfig("synchronous_commit", onOff)
                        .setServerConfig("full_page_writes", onOff)
                        .setDataDirectory(pgData.toFile())
                        .setCleanDataDirectory(false)
                        .setOverrideWorkingDirectory(pgBin.toFile())
                        .setPGStartupWait(Duration.ofSeconds(60))
                        .start();
                log.info("Embedded PostgreSQL started on port {} (data in {})", pg.getPort(), pgData);
                return new EmbeddedDatabase(pg);
            } catch (IOException e) {
                throw new UncheckedIOException("Embedded PostgreSQL did not start", e);
            }
        }

        String jdbcUrl() {
            return postgres.getJdbcUrl("postgres", "postgres");
        }

        @Override
        public void close() throws IOException {
            if (postgres != null) {
                postgres.close();
            }
        }
    }
}
