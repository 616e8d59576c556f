package org.carerelay.gateway.infra;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * Statements that stand whatever becomes of the transaction the calling thread is in: each one
 * runs on a connection of a small pool of its own, in auto-commit, and is committed at once. The
 * audit of a refusal is written this way, since the refused operation's transaction rolls back.
 * The pool is apart from the main one, so a thread that holds a main connection in its
 * transaction never waits for a second one there (many refusals at the same moment cannot take
 * every main connection and then wait for each other). It keeps no idle connection.
 */
public final class AutonomousJdbc implements AutoCloseable {

    private final HikariDataSource pool;
    private final JdbcClient jdbc;

    AutonomousJdbc(HikariDataSource pool) {
        this.pool = pool;
        this.jdbc = JdbcClient.create(pool);
    }

    /** A client whose statements each commit at once, outside any transaction of the calling thread. */
    public JdbcClient jdbc() {
        return jdbc;
    }

    @Override
    public void close() {
        pool.close();
    }
}
