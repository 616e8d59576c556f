package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.activemq.artemis.api.core.ActiveMQConnectionTimedOutException;
import org.apache.activemq.artemis.api.core.ActiveMQNonExistentQueueException;
import org.apache.activemq.artemis.api.core.ActiveMQNotConnectedException;
import org.apache.camel.CamelExecutionException;
import org.carerelay.gateway.infra.Outages.Dependency;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.UncategorizedSQLException;
import org.springframework.jms.UncategorizedJmsException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;

class OutagesTest {

    static Stream<Arguments> failures() {
        return Stream.of(
                // the database cannot be reached
                Arguments.of("Hikari timed out waiting for a connection",
                        new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                                new SQLTransientConnectionException("carerelay - Connection is not available, request timed out after 5000ms")),
                        Dependency.DATABASE),
                Arguments.of("the pool's own exception, unwrapped",
                        new SQLTransientConnectionException("request timed out"), Dependency.DATABASE),
                Arguments.of("PostgreSQL connection refused (08001)",
                        new CannotCreateTransactionException("Could not open JDBC Connection for transaction",
                                new PSQLException("Connection refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT)),
                        Dependency.DATABASE),
                Arguments.of("the connection broke during a query (08006)",
                        new DataAccessResourceFailureException("select",
                                new PSQLException("An I/O error occurred", PSQLState.CONNECTION_FAILURE)),
                        Dependency.DATABASE),
                Arguments.of("the server was shut down under the query (57P01 admin shutdown)",
                        new UncategorizedSQLException("insert", "insert into x", new SQLException("terminating connection", "57P01")),
                        Dependency.DATABASE),
                Arguments.of("the server is starting (57P03)",
                        new UncategorizedSQLException("select", "select 1", new SQLException("the database system is starting up", "57P03")),
                        Dependency.DATABASE),
                Arguments.of("too many connections (53300)", new SQLException("too many clients", "53300"), Dependency.DATABASE),
                Arguments.of("the commit failed because the connection broke",
                        new TransactionSystemException("Could not commit",
                                new PSQLException("An I/O error occurred", PSQLState.CONNECTION_FAILURE)),
                        Dependency.DATABASE),
                Arguments.of("the rollback after a broken statement failed too (the pool had closed the connection)",
                        rolledBackOn(new DataAccessResourceFailureException("insert",
                                new PSQLException("An I/O error occurred", PSQLState.CONNECTION_FAILURE))),
                        Dependency.DATABASE),
                Arguments.of("the rollback after a failed commit failed on the closed connection",
                        new TransactionSystemException("Could not roll back JDBC transaction",
                                new SQLException("carerelay - Connection is closed")),
                        Dependency.DATABASE),
                Arguments.of("Spring's transient resource failure",
                        new TransientDataAccessResourceException("gone"), Dependency.DATABASE),
                Arguments.of("wrapped by HAPI or a service",
                        new IllegalStateException("wrapped", new RuntimeException(new CannotGetJdbcConnectionException("x"))),
                        Dependency.DATABASE),
                // the broker cannot be reached
                Arguments.of("Camel could not send to the broker (not connected)",
                        new CamelExecutionException("send failed", null,
                                new UncategorizedJmsException(linked(new ActiveMQNotConnectedException("AMQ219007")))),
                        Dependency.BROKER),
                Arguments.of("the broker timed out the connection",
                        linked(new ActiveMQConnectionTimedOutException("AMQ219013")), Dependency.BROKER),
                // everything else is not an outage
                Arguments.of("unique violation", new DuplicateKeyException("dup",
                        new PSQLException("duplicate key", PSQLState.UNIQUE_VIOLATION)), null),
                Arguments.of("not-null violation", new DataIntegrityViolationException("null",
                        new PSQLException("null value", PSQLState.NOT_NULL_VIOLATION)), null),
                Arguments.of("syntax error", new BadSqlGrammarException("select", "selec 1",
                        new SQLException("syntax error", "42601")), null),
                Arguments.of("wrong password (28P01): a configuration error, not an outage",
                        new UncategorizedSQLException("connect", null, new SQLException("password authentication failed", "28P01")),
                        null),
                Arguments.of("SQLException without SQLState", new SQLException("odd"), null),
                Arguments.of("a commit refused for a serialization failure (40001)",
                        new TransactionSystemException("Could not commit", new SQLException("could not serialize", "40001")),
                        null),
                Arguments.of("a rollback that replaced a bug", rolledBackOnBug(), null),
                Arguments.of("a queue that does not exist", new UncategorizedJmsException(
                        linked(new ActiveMQNonExistentQueueException("AMQ229017"))), null),
                Arguments.of("an invalid destination", new InvalidDestinationException("bad"), null),
                Arguments.of("a bug", new NullPointerException(), null),
                Arguments.of("bad input", new IllegalArgumentException("bad"), null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failures")
    void classifiesByCauseChain(String situation, Throwable failure, Dependency expected) {
        assertThat(Outages.unavailable(failure)).isEqualTo(Optional.ofNullable(expected));
        assertThat(Outages.isTransient(failure)).isEqualTo(expected != null);
    }

    @org.junit.jupiter.api.Test
    void nothingThrownIsNoOutage() {
        assertThat(Outages.unavailable(null)).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void aCyclicCauseChainEnds() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertThat(Outages.unavailable(a)).isEmpty();
    }

    private static TransactionSystemException rolledBackOn(Throwable applicationFailure) {
        TransactionSystemException e = new TransactionSystemException("Could not roll back JDBC transaction",
                new SQLException("carerelay - Connection is closed"));
        e.initApplicationException(applicationFailure);
        return e;
    }

    private static TransactionSystemException rolledBackOnBug() {
        TransactionSystemException e = new TransactionSystemException("Could not roll back JDBC transaction",
                new SQLException("cannot roll back", "25P01"));
        e.initApplicationException(new NullPointerException());
        return e;
    }

    private static JMSException linked(Exception cause) {
        JMSException e = new JMSException("broker");
        e.setLinkedException(cause);
        return e;
    }
}
