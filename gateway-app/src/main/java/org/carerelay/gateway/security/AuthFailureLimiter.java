package org.carerelay.gateway.security;

import java.sql.Timestamp;
import java.time.Instant;
import org.carerelay.gateway.config.CareRelayProperties;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Limits failed token presentations per client address. Kept in the database, not in memory, so
 * the limit holds across every gateway node behind a load balancer.
 */
@Component
public class AuthFailureLimiter {

    private final JdbcClient jdbc;
    private final CareRelayProperties.Security settings;

    public AuthFailureLimiter(JdbcClient jdbc, CareRelayProperties props) {
        this.jdbc = jdbc;
        this.settings = props.security();
    }

    public boolean isBlocked(String clientAddress) {
        Instant since = Instant.now().minus(settings.authFailureWindow());
        int failures = jdbc.sql("select count(*) from auth_failure where client_address = ? and occurred_at > ?")
                .params(clientAddress, Timestamp.from(since)).query(Integer.class).single();
        return failures >= settings.authFailureLimit();
    }

    public void recordFailure(String clientAddress) {
        Instant now = Instant.now();
        jdbc.sql("insert into auth_failure (client_address, occurred_at) values (?, ?)")
                .params(clientAddress, Timestamp.from(now)).update();
        jdbc.sql("delete from auth_failure where occurred_at < ?")
                .param(Timestamp.from(now.minus(settings.authFailureWindow().multipliedBy(2)))).update();
    }
}
