package org.carerelay.gateway.infra;

import jakarta.jms.JMSException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.activemq.artemis.api.core.ActiveMQException;
import org.apache.activemq.artemis.api.core.ActiveMQExceptionType;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;

/**
 * Tells a failure because the database or the broker cannot be reached (the request may succeed
 * when it is sent again a little later) from every other failure. Callers answer the first kind
 * with {@code 503 service-unavailable} and {@code Retry-After} (FHIR) or a negative ACK asking to
 * resend (HL7), instead of an internal error; nothing has been stored in either case, because the
 * storing transaction could not begin or did not commit.
 *
 * <p>The whole cause chain is read: Spring and Camel wrap the driver's exceptions. Unreachable
 * means: no connection from the pool in time (Hikari's {@link SQLTransientConnectionException}),
 * a PostgreSQL connection error (SQLState class {@code 08}), the server shutting down or starting
 * ({@code 57P01}–{@code 57P03}), too many connections ({@code 53300}), Spring's resource failures
 * ({@code CannotGetJdbcConnectionException} and the rest of {@link DataAccessResourceFailureException},
 * {@link TransientDataAccessResourceException}, {@link CannotCreateTransactionException}), a
 * rollback that failed on a broken connection and replaced the original failure (a
 * {@link TransactionSystemException} around the application exception, or around the pool's
 * SQLException without SQLState for a connection it already closed), and an
 * Artemis client that is not or no longer connected. A constraint violation, a syntax error or a
 * bug stays what it is.
 */
public final class Outages {

    /** What could not be reached. */
    public enum Dependency {
        DATABASE, BROKER
    }

    /** How long a client should wait before sending again, in seconds (the {@code Retry-After} header). */
    public static final int RETRY_AFTER_SECONDS = 10;

    private static final int MAX_CAUSES = 16;

    private static final Set<String> UNAVAILABLE_SQL_STATES = Set.of(
            "57P01", // admin_shutdown: the server is shutting down (fast shutdown, restart)
            "57P02", // crash_shutdown
            "57P03", // cannot_connect_now: the server is starting up or in recovery
            "53300"); // too_many_connections

    private static final Set<ActiveMQExceptionType> UNAVAILABLE_BROKER = Set.of(
            ActiveMQExceptionType.NOT_CONNECTED,
            ActiveMQExceptionType.CONNECTION_TIMEDOUT,
            ActiveMQExceptionType.DISCONNECTED,
            ActiveMQExceptionType.OBJECT_CLOSED,
            ActiveMQExceptionType.UNBLOCKED,
            ActiveMQExceptionType.SESSION_CREATION_REJECTED);

    private Outages() {
    }

    /** The dependency that was unreachable when {@code failure} happened; empty for any other failure. */
    public static Optional<Dependency> unavailable(Throwable failure) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        int depth = 0;
        for (Throwable t = failure; t != null && seen.put(t, Boolean.TRUE) == null && depth++ < MAX_CAUSES; t = next(t)) {
            if (t instanceof TransactionSystemException tse && tse.getApplicationException() != null) {
                // the rollback after a failed statement failed too and replaced the original failure
                Optional<Dependency> original = unavailable(tse.getApplicationException());
                if (original.isPresent()) {
                    return original;
                }
            }
            if (databaseUnreachable(t)) {
                return Optional.of(Dependency.DATABASE);
            }
            if (t instanceof ActiveMQException amq && UNAVAILABLE_BROKER.contains(amq.getType())) {
                return Optional.of(Dependency.BROKER);
            }
        }
        return Optional.empty();
    }

    public static boolean isTransient(Throwable failure) {
        return unavailable(failure).isPresent();
    }

    private static boolean databaseUnreachable(Throwable t) {
        if (t instanceof DataAccessResourceFailureException || t instanceof TransientDataAccessResourceException
                || t instanceof CannotCreateTransactionException) {
            return true;
        }
        if (t instanceof TransactionSystemException tse) {
            // a rollback or commit fails with an SQLException without SQLState when the pool has already
            // closed the broken connection
            return tse.getCause() instanceof SQLException sql && sql.getSQLState() == null;
        }
        if (t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException
                || t instanceof SQLRecoverableException) {
            return true;
        }
        if (t instanceof SQLException sql && sql.getSQLState() != null) {
            String state = sql.getSQLState();
            return state.startsWith("08") || UNAVAILABLE_SQL_STATES.contains(state);
        }
        return false;
    }

    /** The cause, or a JMS exception's linked exception (Artemis links its own exception there). */
    private static Throwable next(Throwable t) {
        if (t.getCause() == null && t instanceof JMSException jms) {
            return jms.getLinkedException();
        }
        return t.getCause();
    }
}
