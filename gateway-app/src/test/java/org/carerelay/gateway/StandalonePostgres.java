package org.carerelay.gateway;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A PostgreSQL server of its own for tests that need one outside the gateway (several gateway
 * processes on one database): the real server binaries the embedded mode uses, started as a
 * standalone server on a fixed port with a data directory under {@code target/}. It can be stopped
 * (fast shutdown: open connections are cut, as in a server restart) and started again on the same
 * data directory and port. Every TCP connection authenticates with a password (SCRAM); the
 * database {@link #DATABASE} belongs to the user {@link #USER}.
 */
public final class StandalonePostgres implements AutoCloseable {

    static final String DATABASE = "carerelay";
    public static final String USER = "carerelay";
    public static final String PASSWORD = "carerelay-test-password";
    private static final String SUPERUSER_PASSWORD = "postgres-test-password";

    final Path dataDir;
    final int port;
    private final Path binaries;
    private final Path log;
    private EmbeddedPostgres server;

    /** Creates the cluster, the user and the database, and starts the server. */
    public static StandalonePostgres start(Path dir) throws IOException, SQLException {
        StandalonePostgres pg = new StandalonePostgres(dir, TestPorts.free());
        pg.start();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), "postgres", SUPERUSER_PASSWORD);
                Statement s = c.createStatement()) {
            s.execute("create role " + USER + " login password '" + PASSWORD + "'");
            s.execute("create database " + DATABASE + " owner " + USER);
        }
        return pg;
    }

    private StandalonePostgres(Path dir, int port) throws IOException {
        this.dataDir = dir.resolve("data").toAbsolutePath();
        this.binaries = dir.resolve("bin").toAbsolutePath();
        this.log = dir.resolve("postgres.log").toAbsolutePath();
        this.port = port;
        Files.createDirectories(dataDir);
        Files.createDirectories(binaries);
        Path pwfile = dir.resolve("superuser-password").toAbsolutePath();
        Files.writeString(pwfile, SUPERUSER_PASSWORD);
    }

    /** Starts the server (again) on the same data directory and port. */
    public synchronized void start() throws IOException {
        if (server != null) {
            return;
        }
        server = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir.toFile())
                .setCleanDataDirectory(false)
                .setOverrideWorkingDirectory(binaries.toFile())
                .setPort(port)
                // a test server: a clean shutdown flushes everything, a power loss is not tested here
                .setServerConfig("fsync", "off")
                .setServerConfig("full_page_writes", "off")
                .setServerConfig("max_connections", "120")
                .setLocaleConfig("auth-local", "trust")
                .setLocaleConfig("auth-host", "scram-sha-256")
                .setLocaleConfig("pwfile", dataDir.resolveSibling("superuser-password").toString())
                .setConnectConfig("password", SUPERUSER_PASSWORD)
                .setOutputRedirector(java.lang.ProcessBuilder.Redirect.appendTo(log.toFile()))
                .setErrorRedirector(java.lang.ProcessBuilder.Redirect.appendTo(log.toFile()))
                .setPGStartupWait(Duration.ofSeconds(60))
                .start();
    }

    /** Fast shutdown: sessions are terminated, the data stays. */
    public synchronized void stop() throws IOException {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    void restart() throws IOException {
        stop();
        start();
    }

    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    private String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** A connection as {@link #USER}, for the test's own look into the gateway's tables. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), USER, PASSWORD);
    }

    @Override
    public void close() throws IOException {
        stop();
    }
}
