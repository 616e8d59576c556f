package org.carerelay.gateway.infra;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import org.springframework.jdbc.core.SqlTypeValue;
import org.springframework.jdbc.core.StatementCreatorUtils;
import org.springframework.jdbc.support.SQLErrorCodeSQLExceptionTranslator;
import org.springframework.jdbc.support.SQLExceptionTranslator;

/**
 * Statements that stand whatever becomes of the transaction the calling thread is in: each one
 * runs on a connection of a small pool of its own, in auto-commit, is committed at once, and gives
 * the connection back at once (plain JDBC: Spring's transaction synchronisation would keep it until
 * the caller's transaction ends). The audit of a refusal made inside a transaction is written this
 * way, since the refused operation's transaction rolls back. The pool is apart from the main one, so
 * a thread that holds a main connection in its transaction never waits for a second one there (many
 * refusals at the same moment cannot take every main connection and then wait for each other). It
 * keeps no idle connection.
 */
public final class AutonomousJdbc implements AutoCloseable {

    private final HikariDataSource pool;
    private final SQLExceptionTranslator translator;

    AutonomousJdbc(HikariDataSource pool) {
        this.pool = pool;
        this.translator = new SQLErrorCodeSQLExceptionTranslator(pool);
    }

    /** Runs {@code sql} with positional {@code params} and commits it at once; the rows changed. */
    public int update(String sql, List<?> params) {
        try (Connection connection = pool.getConnection(); PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.size(); i++) {
                StatementCreatorUtils.setParameterValue(statement, i + 1, SqlTypeValue.TYPE_UNKNOWN, params.get(i));
            }
            return statement.executeUpdate();
        } catch (SQLException e) {
            throw translator.translate("autonomous update", sql, e);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
