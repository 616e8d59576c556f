package org.carerelay.gateway.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.catalina.valves.RemoteIpValve;
import org.junit.jupiter.api.Test;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;

class TrustedProxiesTest {

    @Test
    void singleAddressesBecomeHostRanges_rangesStay() {
        assertThat(TrustedProxies.cidrs(List.of(" 10.1.2.3 ", "192.168.0.0/16", "2001:db8::1", "")))
                .containsExactly("10.1.2.3/32", "192.168.0.0/16", "2001:db8::1/128");
    }

    @Test
    void namesAndGarbage_stopTheStart() {
        assertThatThrownBy(() -> TrustedProxies.cidrs(List.of("proxy.example.org"))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> TrustedProxies.cidrs(List.of("10.0.0.0/99"))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> TrustedProxies.cidrs(List.of(".*"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void bootsValveTrustingEveryPrivatePeer_isReplacedByOneForTheConfiguredProxies() {
        TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory();
        RemoteIpValve boots = new RemoteIpValve(); // its default internalProxies: all private and loopback ranges
        factory.addEngineValves(boots);
        customizer(List.of("10.9.8.7")).customize(factory);
        assertThat(factory.getEngineValves()).singleElement().isInstanceOfSatisfying(RemoteIpValve.class,
                v -> assertThat(v.getInternalProxies()).isEqualTo("10.9.8.7/32"));
    }

    @Test
    void withoutTrustedProxies_noForwardedHeaderIsBelievedAtAll() {
        TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory();
        factory.addEngineValves(new RemoteIpValve());
        customizer(List.of()).customize(factory);
        assertThat(factory.getEngineValves()).noneMatch(RemoteIpValve.class::isInstance);
    }

    private static TrustedProxies customizer(List<String> proxies) {
        var security = new org.carerelay.gateway.config.CareRelayProperties.Security(null, 20, java.time.Duration.ofMinutes(15),
                proxies, java.time.Duration.ZERO, java.time.Duration.ZERO, 0, java.time.Duration.ofMinutes(1));
        var props = new org.carerelay.gateway.config.CareRelayProperties(null, null, null, null, null, null, security, null,
                null, null, null, null, null, null, null, null, null);
        return new TrustedProxies(props, new org.springframework.mock.env.MockEnvironment());
    }
}
