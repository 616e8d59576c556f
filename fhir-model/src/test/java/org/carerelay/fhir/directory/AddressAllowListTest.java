package org.carerelay.fhir.directory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AddressAllowListTest {

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void singleAddresses_andCidrRanges_matchIPv4AndIPv6() throws Exception {
        AddressAllowList list = AddressAllowList.of(List.of("192.0.2.10", "198.51.100.0/24", "10.0.0.0/8", "2001:db8:42::/48",
                "fe80::1"));

        assertThat(list.allows(ip("192.0.2.10"))).isTrue();
        assertThat(list.allows(ip("192.0.2.11"))).isFalse();
        assertThat(list.allows(ip("198.51.100.255"))).isTrue();
        assertThat(list.allows(ip("198.51.101.0"))).isFalse();
        assertThat(list.allows(ip("10.255.1.2"))).isTrue();
        assertThat(list.allows(ip("11.0.0.1"))).isFalse();
        assertThat(list.allows(ip("2001:db8:42:ffff::1"))).isTrue();
        assertThat(list.allows(ip("2001:db8:43::1"))).isFalse();
        assertThat(list.allows(ip("fe80::1"))).isTrue();
        assertThat(list.allows(ip("::ffff:192.0.2.10"))).as("IPv4-mapped IPv6 peer").isTrue();
        assertThat(list.allows(null)).isFalse();
    }

    @Test
    void oddPrefixLengths_compareOnlyTheLeadingBits() throws Exception {
        AddressAllowList list = AddressAllowList.of(List.of("192.0.2.64/27", "2001:db8::/33"));
        assertThat(list.allows(ip("192.0.2.64"))).isTrue();
        assertThat(list.allows(ip("192.0.2.95"))).isTrue();
        assertThat(list.allows(ip("192.0.2.96"))).isFalse();
        assertThat(list.allows(ip("192.0.2.63"))).isFalse();
        assertThat(list.allows(ip("2001:db8:7fff::1"))).isTrue();
        assertThat(list.allows(ip("2001:db8:8000::1"))).isFalse();
    }

    @Test
    void anEmptyList_allowsNobody() throws Exception {
        assertThat(AddressAllowList.of(List.of()).allows(ip("127.0.0.1"))).isFalse();
    }

    @Test
    void garbage_hostNames_badPrefixes_andHostBits_areRefusedWithAReason() {
        for (String bad : List.of("", " ", "not-an-address", "hl7.example.org", "localhost", "192.168.1.300", "10.1", "1.2.3.4.5",
                "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "2001:db8::/129", "2001:db8::1/abc", "1.2.3.4/08x", ":::")) {
            assertThatThrownBy(() -> AddressAllowList.parseRange(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> AddressAllowList.parseRange("10.1.2.3/8")).hasMessageContaining("10.0.0.0/8");
    }

    @Test
    void entries_areWrittenBackCanonically() {
        assertThat(AddressAllowList.parseRange(" 192.0.2.10 ").toString()).isEqualTo("192.0.2.10");
        assertThat(AddressAllowList.parseRange("192.0.2.10/32").toString()).isEqualTo("192.0.2.10");
        assertThat(AddressAllowList.parseRange("0.0.0.0/0").toString()).isEqualTo("0.0.0.0/0");
        assertThat(AddressAllowList.parseRange("2001:DB8::/32").toString()).isEqualTo("2001:db8:0:0:0:0:0:0/32");
    }

    @Test
    void peerAddress_readsTheSocketAddressFormsJavaPrints() throws Exception {
        assertThat(AddressAllowList.peerAddress("/192.0.2.10:51234")).contains(ip("192.0.2.10"));
        assertThat(AddressAllowList.peerAddress("host.example.org/192.0.2.10:51234")).contains(ip("192.0.2.10"));
        assertThat(AddressAllowList.peerAddress("/[0:0:0:0:0:0:0:1]:51234")).contains(ip("::1"));
        assertThat(AddressAllowList.peerAddress("/[fe80:0:0:0:0:0:0:1%eth0]:51234")).contains(ip("fe80::1"));
        assertThat(AddressAllowList.peerAddress("/0:0:0:0:0:0:0:1%0:51234")).contains(ip("::1"));
        assertThat(AddressAllowList.peerAddress("/[0:0:0:0:0:ffff:c000:20a]:51234")).contains(ip("192.0.2.10"));
        assertThat(AddressAllowList.peerAddress(null)).isEmpty();
        assertThat(AddressAllowList.peerAddress("")).isEmpty();
        assertThat(AddressAllowList.peerAddress("/hl7.example.org:2575")).isEmpty();
    }
}
