package org.carerelay.gateway.infra;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.carerelay.gateway.config.CareRelayProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The database: the PostgreSQL server named by {@code carerelay.db.url}, or, when none is
 * configured, an embedded PostgreSQL (real server binaries) whose data stays in
 * {@code <data-dir>/postgres} across restarts. The embedded server accepts only connections that
 * authenticate with the superuser's password, generated on first start into
 * {@code <data-dir>/keys/db-password} (owner-only).
 */
@Configuration(proxyBeanMethods = false)
public class DatabaseConfiguration {

    private static final Logger log = LoggerFactory.getLogger(DatabaseConfiguration.class);

    @Bean(destroyMethod = "close")
    DataSource dataSource(CareRelayProperties props, EmbeddedDatabase embedded) {
        // an idle node keeps 4 connections open, not 20: each is a PostgreSQL backend process (≈ 2 MB
        // PSS); the pool opens more when requests wait for one and closes them after 10 idle minutes
        return pool(props, embedded, "carerelay", 20, 4);
    }

    /** Up to 4 more connections, opened when needed (none at start) and closed after 10 idle minutes. */
    @Bean(destroyMethod = "close")
    AutonomousJdbc autonomousJdbc(CareRelayProperties props, EmbeddedDatabase embedded) {
        return new AutonomousJdbc(pool(props, embedded, "carerelay-autonomous", 4, 0));
    }

    private static HikariDataSource pool(CareRelayProperties props, EmbeddedDatabase embedded, String name, int maxSize,
            int minIdle) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setMaximumPoolSize(maxSize);
        config.setMinimumIdle(minIdle);
        if (minIdle == 0) {
            config.setInitializationFailTimeout(-1); // no test connection at start: the main pool's start already tells
        }
        // while the database is unreachable a request waits this long for a connection, then gets a 503
        // (Hikari's default of 30 s would hold every request thread that long); the pool reconnects by itself
        long timeout = Math.max(250, props.db().connectionTimeoutOrDefault().toMillis());
        config.setConnectionTimeout(timeout);
        config.setValidationTimeout(Math.min(timeout, 5_000));
        if (props.db().external()) {
            config.setJdbcUrl(props.db().url());
            config.setUsername(props.db().user());
            config.setPassword(props.db().password());
        } else {
            config.setJdbcUrl(embedded.jdbcUrl());
            config.setUsername("postgres");
            config.setPassword(embedded.password());
        }
        return new HikariDataSource(config);
    }

    /** The embedded server {@link EmbeddedDatabaseEarlyStart} began to start, or else one started now. */
    @Bean(destroyMethod = "close")
    EmbeddedDatabase embeddedDatabase(CareRelayProperties props, ObjectProvider<EmbeddedDatabaseEarlyStart.Starting> early) {
        if (props.db().external()) {
            return EmbeddedDatabase.NONE;
        }
        Path dataDir = props.dataDir().toAbsolutePath().normalize();
        boolean durable = props.db().embeddedDurable();
        EmbeddedDatabaseEarlyStart.Starting starting = early.getIfAvailable();
        if (starting != null) {
            if (starting.serves(dataDir, durable)) {
                return starting.claim();
            }
            // settings added after the context's initializers (a bean factory post-processor's property
            // source) differ from those the early start read: that server is not the one asked for
            log.warn("The embedded PostgreSQL started early for other settings than the beans have (data directory or"
                    + " durability); it is stopped and started again with the beans' settings");
            starting.stopUnclaimed();
        }
        return EmbeddedDatabase.start(dataDir, durable);
    }

    /** Owns the embedded server process, if one was started. */
    public static final class EmbeddedDatabase implements AutoCloseable {
        static final EmbeddedDatabase NONE = new EmbeddedDatabase(null, null);
        private final EmbeddedPostgres postgres;
        private final String password;

        private EmbeddedDatabase(EmbeddedPostgres postgres, String password) {
            this.postgres = postgres;
            this.password = password;
        }

        static EmbeddedDatabase start(Path dataDir, boolean durable) {
            Path pgData = dataDir.resolve("postgres");
            Path pgBin = dataDir.resolve("postgres-bin");
            Path passwordFile = dataDir.resolve("keys").resolve("db-password");
            try {
                OwnerOnlyFiles.restrict(dataDir);
                Files.createDirectories(pgData);
                Files.createDirectories(pgBin);
                String password = OwnerOnlyFiles.readOrCreateSecret(passwordFile);
                StalePostmaster.stop(pgData);
                // the embedded server's library defaults (fsync, synchronous_commit, full_page_writes off)
                // suit throwaway test databases; a commit the gateway acknowledges must survive a power loss
                String onOff = durable ? "on" : "off";
                EmbeddedPostgres pg = EmbeddedPostgres.builder()
                        .setServerConfig("fsync", onOff)
                        .setServerConfig("synchronous_commit", onOff)
                        .setServerConfig("full_page_writes", onOff)
                        // the server log goes to the gateway's log: no statements, parameters or failing rows in it
                        .setServerConfig("log_min_error_statement", "panic")
                        .setServerConfig("log_error_verbosity", "terse")
                        // a new cluster is created with the superuser's password from data/keys/db-password and
                        // SCRAM for every connection (the library would make every local connection trusted);
                        // these options only reach initdb
                        .setLocaleConfig("auth-local", "scram-sha-256")
                        .setLocaleConfig("auth-host", "scram-sha-256")
                        .setLocaleConfig("pwfile", passwordFile.toAbsolutePath().toString())
                        .setConnectConfig("password", password)
                        .setDataDirectory(pgData.toFile())
                        .setCleanDataDirectory(false)
                        .setOverrideWorkingDirectory(pgBin.toFile())
                        .setPGStartupWait(Duration.ofSeconds(60))
                        // stopped by Spring after the routes and the pool (ShutdownOrder), not by a JVM
                        // shutdown hook of its own that would race them on SIGTERM
                        .setRegisterShutdownHook(false)
                        .start();
                EmbeddedDatabase database = new EmbeddedDatabase(pg, password);
                database.requirePasswords(pgData);
                OwnerOnlyFiles.restrict(dataDir); // the binaries were unpacked just now
                log.info("Embedded PostgreSQL started on port {} (data in {}, password in {})", pg.getPort(), pgData,
                        passwordFile);
                return database;
            } catch (IOException e) {
                throw new UncheckedIOException("Embedded PostgreSQL did not start", e);
            }
        }

        /**
         * A cluster from an earlier release was created with {@code trust} for every local
         * connection and a superuser without password: set the password, then switch the cluster to
         * SCRAM and reload. Idempotent; a cluster already on SCRAM is left alone.
         */
        private void requirePasswords(Path pgData) throws IOException {
            Path hba = pgData.resolve("pg_hba.conf");
            String current = Files.exists(hba) ? Files.readString(hba) : "";
            if (current.equals(PG_HBA)) {
                return;
            }
            try (Connection connection = DriverManager.getConnection(jdbcUrl(), "postgres", password);
                    Statement statement = connection.createStatement()) {
                statement.execute("set password_encryption = 'scram-sha-256'");
                // the secret is base64url (no quotes or backslashes), so it can stand as a literal
                statement.execute("alter role postgres with password '" + password + "'");
                Path tmp = hba.resolveSibling("pg_hba.conf.tmp");
                Files.writeString(tmp, PG_HBA);
                Files.move(tmp, hba, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                statement.execute("select pg_reload_conf()");
                log.info("Embedded PostgreSQL now requires the password from data/keys/db-password for every connection");
            } catch (SQLException e) {
                throw new IllegalStateException("Could not set the embedded PostgreSQL password: "
                        + SafeExceptions.describe(e), e);
            }
        }

        /** Every connection, over the socket or TCP, authenticates with the superuser's password. */
        static final String PG_HBA = """
                # written by CareRelay: every connection authenticates with a password (SCRAM)
                # TYPE  DATABASE  USER  ADDRESS        METHOD
                local   all       all                  scram-sha-256
                host    all       all   127.0.0.1/32   scram-sha-256
                host    all       all   ::1/128        scram-sha-256
                """;

        String jdbcUrl() {
            return postgres.getJdbcUrl("postgres", "postgres");
        }

        String password() {
            return password;
        }

        @Override
        public void close() throws IOException {
            if (postgres != null) {
                postgres.close();
            }
        }
    }
}
