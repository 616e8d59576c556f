package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RateCountersKeyTest {

    @Test
    void ipv6AddressesOfOneSlash64_shareOneBudget() {
        assertThat(RateCounters.clientKey("2001:db8:1:2::1")).isEqualTo(RateCounters.clientKey("2001:db8:1:2:ffff:ffff:ffff:fffe"))
                .isEqualTo(RateCounters.clientKey("[2001:db8:1:2::7]"))
                .isEqualTo("20010db800010002::/64");
        assertThat(RateCounters.clientKey("2001:db8:1:3::1")).isNotEqualTo(RateCounters.clientKey("2001:db8:1:2::1"));
    }

    @Test
    void ipv4AndMappedIpv4_countPerAddress() {
        assertThat(RateCounters.clientKey("192.0.2.7")).isEqualTo("192.0.2.7");
        assertThat(RateCounters.clientKey("::ffff:192.0.2.7")).isEqualTo("192.0.2.7");
        assertThat(RateCounters.clientKey("192.0.2.8")).isNotEqualTo(RateCounters.clientKey("192.0.2.7"));
        assertThat(RateCounters.clientKey(null)).isEqualTo("unknown");
    }
}
