package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.RawHttp;
import org.carerelay.gateway.config.CareRelayProperties;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * X-Forwarded-For is believed only from a configured proxy (127.0.0.2 in the tests; the usual test
 * client, 127.0.0.1, is an ordinary peer), even with Spring Boot's forward-header support switched
 * on as in production; and failed tokens are counted atomically per address.
 */
class ForwardedHeadersIT extends GatewayIntegrationTest {

    @Autowired
    JdbcClient jdbc;

    @Autowired
    CareRelayProperties properties;

    @Test
    void spoofedForwardedFor_fromAnUntrustedPeer_isIgnored_andTheAuditShowsTheRealAddress() throws Exception {
        String marker = unique("spoof");
        for (int i = 0; i < 3; i++) {
            RawHttp.Response response = RawHttp.send("127.0.0.1", port, "GET", "/fhir/Organization/" + marker,
                    Map.of("Authorization", "Bearer crt_invalid", "X-Forwarded-For", "203.0.113." + (10 + i)), null);
            assertThat(response.status()).isEqualTo(401);
        }
        assertThat(failedAuthenticationAddresses(marker)).hasSize(3).containsOnly("127.0.0.1");
    }

    @Test
    void forwardedFor_fromTheTrustedProxy_namesTheClient_readFromTheRight() throws Exception {
        String marker = unique("proxied");
        // the client put a fake address first; the proxy appended the address it saw
        RawHttp.Response response = RawHttp.send("127.0.0.2", port, "GET", "/fhir/Organization/" + marker,
                Map.of("Authorization", "Bearer crt_invalid", "X-Forwarded-For", "198.51.100.1, 203.0.113.50"), null);
        assertThat(response.status()).isEqualTo(401);
        assertThat(failedAuthenticationAddresses(marker)).containsExactly("203.0.113.50");
    }

    @Test
    void concurrentBadTokens_fromOneAddress_getExactlyTheRemainingLimitOf401s_thenOnly429s() throws Exception {
        String address = "2001:db8:0:" + Integer.toHexString((int) (Math.random() * 0xffff)) + "::1"; // a /64 of its own
        int limit = properties.security().authFailureLimit();
        int remaining = 5;
        // this address already failed limit - 5 times in the current window
        jdbc.sql("insert into rate_counter (scope, subject, window_start, hits) values ('auth-failure', ?, ?, ?) "
                + "on conflict (scope, subject) do update set window_start = excluded.window_start, hits = excluded.hits")
                .params(org.carerelay.gateway.security.RateCounters.clientKey(address), Timestamp.from(Instant.now()), limit - remaining).update();
        int attempts = 24;
        ExecutorService pool = Executors.newFixedThreadPool(12);
        try {
            List<Callable<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < attempts; i++) {
                calls.add(() -> RawHttp.send("127.0.0.2", port, "GET", "/fhir/Organization",
                        Map.of("Authorization", "Bearer crt_wrong", "X-Forwarded-For", address), null).status());
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<Integer> f : pool.invokeAll(calls)) {
                statuses.add(f.get());
            }
            assertThat(statuses.stream().filter(s -> s == 401).count()).isEqualTo(remaining);
            assertThat(statuses.stream().filter(s -> s == 429).count()).isEqualTo(attempts - remaining);
        } finally {
            pool.shutdownNow();
        }
    }

    private List<String> failedAuthenticationAddresses(String marker) {
        return jdbc.sql("select content->'agent'->0->'network'->>'address' from audit_event "
                + "where subtype_code = 'authentication-failed' and content->>'outcomeDesc' like ?")
                .param("%" + marker + "%").query(String.class).list();
    }
}
