package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLTransientConnectionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

/**
 * The outcome of a hand-over that happened is written even when the database is away for a
 * while: a failed write would send the work item back to the broker and the message to the
 * partner a second time.
 */
class OutcomeRecordingTest {

    private final DeliveryAttempt attempt = new DeliveryAttempt(null, null, null, null, null, null, null, null, null);

    private static RuntimeException unreachable() {
        return new CannotGetJdbcConnectionException("no connection",
                new SQLTransientConnectionException("Connection is not available, request timed out after 5000ms."));
    }

    @Test
    void aDatabaseThatIsAwayIsWaitedFor_theWriteLandsOnceItAnswers() {
        AtomicInteger tries = new AtomicInteger();
        attempt.recordOutcome("m", "r", () -> {
            if (tries.incrementAndGet() < 4) {
                throw unreachable();
            }
        });
        assertThat(tries).hasValue(4);
    }

    @Test
    void anyOtherFailureIsNotRetried() {
        AtomicInteger tries = new AtomicInteger();
        assertThatThrownBy(() -> attempt.recordOutcome("m", "r", () -> {
            tries.incrementAndGet();
            throw new DataIntegrityViolationException("constraint");
        })).isInstanceOf(DataIntegrityViolationException.class);
        assertThat(tries).hasValue(1);
    }

    @Test
    void aGatewayThatShutsDownStopsWaiting() {
        attempt.stopping();
        AtomicInteger tries = new AtomicInteger();
        assertThatThrownBy(() -> attempt.recordOutcome("m", "r", () -> {
            tries.incrementAndGet();
            throw unreachable();
        })).isInstanceOf(CannotGetJdbcConnectionException.class);
        assertThat(tries).hasValue(1);
    }
}
