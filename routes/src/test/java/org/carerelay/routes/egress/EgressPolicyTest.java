package org.carerelay.routes.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EgressPolicyTest {

    private static final Set<Integer> OWN_PORTS = Set.of(8080, 2575, 5432);
    private final Map<String, InetAddress[]> dns = new HashMap<>();

    private EgressPolicy policy(String... allowed) {
        return new EgressPolicy(List.of(allowed), () -> OWN_PORTS, () -> Set.of(ip("172.17.0.5")), host -> {
            InetAddress literal = EgressPolicy.literal(host);
            if (literal != null) {
                return new InetAddress[] {literal};
            }
            InetAddress[] answer = dns.get(host);
            if (answer == null) {
                throw new UnknownHostException(host);
            }
            return answer;
        });
    }

    private static InetAddress ip(String literal) {
        InetAddress address = EgressPolicy.literal(literal);
        if (address == null) {
            throw new IllegalArgumentException(literal);
        }
        return address;
    }

    private static boolean refused(EgressPolicy policy, String address, int port) {
        return policy.refusal(address, ip(address), port).isPresent();
    }

    @Test
    void internalDestinations_areRefusedByDefault() {
        EgressPolicy policy = policy();
        for (String address : List.of("127.0.0.1", "127.8.9.10", "::1", "0.0.0.0", "::", "0.1.2.3", "169.254.169.254",
                "fe80::1", "224.0.0.1", "ff02::1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "100.127.255.254",
                "fd12:3456::1", "fc00::1", "255.255.255.255", "64:ff9b::a9fe:a9fe", "::ffff:127.0.0.1", "172.17.0.5",
                "2002:7f00:1::", "2002:a9fe:a9fe::1", "2001:0:4136:e378::1", "::ffff:0:7f00:1", "::ffff:0:a00:1", "100::1",
                "64:ff9b:1::a9fe:a9fe", "64:ff9b:1:a9fe:a9:fe00::", "64:ff9b:1:ffff::1")) {
            assertThat(refused(policy, address, 443)).as(address).isTrue();
        }
    }

    @Test
    void publicDestinations_areAllowed() {
        EgressPolicy policy = policy();
        for (String address : List.of("93.184.216.34", "100.128.0.1", "172.32.0.1", "2001:db8::1", "8.8.8.8", "64:ff9b::808:808",
                "2002:808:808::1")) {
            assertThat(refused(policy, address, 443)).as(address).isFalse();
        }
    }

    @Test
    void allowList_opensRangesAndSingleDestinations_butNotMore() {
        EgressPolicy policy = policy("127.0.0.0/8", "10.20.0.0/16", "192.168.1.7:2575", "partner.internal:8443", "[fd00::5]:443");
        assertThat(refused(policy, "127.0.0.1", 9000)).isFalse();
        assertThat(refused(policy, "10.20.3.4", 443)).isFalse();
        assertThat(refused(policy, "10.21.0.1", 443)).isTrue();
        assertThat(refused(policy, "::1", 9000)).as("loopback allowed only as 127.0.0.0/8").isTrue();
        assertThat(refused(policy, "169.254.169.254", 80)).isTrue();
        assertThat(refused(policy, "192.168.1.7", 2575)).isFalse();
        assertThat(refused(policy, "192.168.1.7", 2576)).isTrue();
        assertThat(policy.refusal("partner.internal", ip("10.9.9.9"), 8443)).isEmpty();
        assertThat(policy.refusal("partner.internal", ip("10.9.9.9"), 8444)).isPresent();
        assertThat(refused(policy, "fd00::5", 443)).isFalse();
        assertThat(refused(policy, "0.0.0.0", 9000)).isTrue();
    }

    @Test
    void theGatewaysOwnPorts_stayRefusedOnLocalAddresses_evenWhenLoopbackIsAllowed() {
        EgressPolicy policy = policy("127.0.0.0/8", "172.16.0.0/12");
        assertThat(policy.refusal("127.0.0.1", ip("127.0.0.1"), 8080)).hasValueSatisfying(r -> assertThat(r).contains("gateway itself"));
        assertThat(refused(policy, "127.0.0.1", 2575)).isTrue();
        assertThat(refused(policy, "127.0.0.1", 5432)).isTrue();
        assertThat(refused(policy, "172.17.0.5", 8080)).as("own interface address").isTrue();
        assertThat(refused(policy, "0.0.0.0", 8080)).isTrue();
        // the same port on a public partner is fine
        assertThat(refused(policy, "93.184.216.34", 8080)).isFalse();
        // only an explicit host:port entry opens one of them
        assertThat(refused(policy("127.0.0.1:2575"), "127.0.0.1", 2575)).isFalse();
    }

    @Test
    void aNameIsRefused_whenAnyOfItsAddressesIsRefused() throws Exception {
        dns.put("rebind.example", new InetAddress[] {ip("93.184.216.34"), ip("169.254.169.254")});
        dns.put("partner.example", new InetAddress[] {ip("93.184.216.34"), ip("2001:db8::7")});
        EgressPolicy policy = policy();
        assertThatThrownBy(() -> policy.resolve("rebind.example", 443))
                .isInstanceOf(EgressPolicy.EgressRefusedException.class).hasMessageContaining("169.254.169.254");
        assertThat(policy.resolve("partner.example", 443))
                .containsExactly(new InetSocketAddress(ip("93.184.216.34"), 443), new InetSocketAddress(ip("2001:db8::7"), 443));
        assertThat(policy.resolve("[2001:db8::7]", 443)).containsExactly(new InetSocketAddress(ip("2001:db8::7"), 443));
        assertThatThrownBy(() -> policy.resolve("[::1]", 443)).isInstanceOf(EgressPolicy.EgressRefusedException.class);
        assertThatThrownBy(() -> policy.resolve("unknown.example", 443)).isInstanceOf(UnknownHostException.class);
    }

    @Test
    void theConnectTimeCheck_refusesUnresolvedAndRefusedAddresses() throws Exception {
        EgressPolicy policy = policy();
        policy.check("partner.example", new InetSocketAddress(ip("93.184.216.34"), 443));
        assertThatThrownBy(() -> policy.check("partner.example", new InetSocketAddress(ip("10.0.0.1"), 443)))
                .isInstanceOf(EgressPolicy.EgressRefusedException.class);
        assertThatThrownBy(() -> policy.check("partner.example", InetSocketAddress.createUnresolved("partner.example", 443)))
                .isInstanceOf(EgressPolicy.EgressRefusedException.class);
    }

    @Test
    void literalCheck_forEndpointWrites_ignoresNames() {
        EgressPolicy policy = policy();
        assertThat(policy.refusalOfLiteral("169.254.169.254", 80)).isPresent();
        assertThat(policy.refusalOfLiteral("[::1]", 80)).isPresent();
        assertThat(policy.refusalOfLiteral("metadata.internal", 80)).isEmpty();
        assertThat(policy.refusalOfLiteral("93.184.216.34", 80)).isEmpty();
    }

    @Test
    void malformedAllowListEntries_stopTheStart() {
        for (String entry : List.of("10.0.0.0/33", "not a range", "host:99999", "[zz::1]:80", "10.1.2.3/8")) {
            assertThatThrownBy(() -> policy(entry)).as(entry).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("carerelay.egress.allowed");
        }
    }
}
