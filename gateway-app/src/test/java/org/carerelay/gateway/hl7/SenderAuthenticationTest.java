package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

class SenderAuthenticationTest {

    private static Organization org(String... allowed) {
        Organization org = new Organization();
        org.setId("klinikum");
        for (String entry : allowed) {
            org.addExtension(Systems.EXT_HL7_ALLOWED_ADDRESS, new StringType(entry));
        }
        return org;
    }

    @Test
    void peerOnTheSendersAllowList_isAuthenticated() {
        assertThat(SenderAuthentication.plainRefusal(org("192.0.2.0/24"), "/192.0.2.7:40000", false)).isEmpty();
        assertThat(SenderAuthentication.plainRefusal(org("2001:db8::/32"), "/[2001:db8:0:0:0:0:0:9]:40000", false)).isEmpty();
    }

    @Test
    void peerNotOnTheAllowList_orWithoutAList_isRefused() {
        assertThat(SenderAuthentication.plainRefusal(org("192.0.2.0/24"), "/198.51.100.7:40000", false))
                .hasValueSatisfying(r -> assertThat(r.error()).isEqualTo(ErrorCode.SENDER_NOT_AUTHENTICATED));
        assertThat(SenderAuthentication.plainRefusal(org(), "/192.0.2.7:40000", false)).isPresent();
        assertThat(SenderAuthentication.plainRefusal(org("192.0.2.0/24"), null, false)).isPresent();
        assertThat(SenderAuthentication.plainRefusal(org("192.0.2.0/24"), "garbage", false)).isPresent();
    }

    @Test
    void loopback_isTrustedOnlyWhenConfigured() {
        assertThat(SenderAuthentication.plainRefusal(org(), "/127.0.0.1:40000", true)).isEmpty();
        assertThat(SenderAuthentication.plainRefusal(org(), "/[0:0:0:0:0:0:0:1]:40000", true)).isEmpty();
        assertThat(SenderAuthentication.plainRefusal(org(), "/127.0.0.1:40000", false)).isPresent();
        assertThat(SenderAuthentication.plainRefusal(org(), "/192.0.2.7:40000", true)).as("trust-loopback trusts loopback only")
                .isPresent();
    }

    @Test
    void anUnparsableStoredEntry_countsForNothing_andDoesNotBreakTheOthers() {
        assertThat(SenderAuthentication.plainRefusal(org("bogus", "192.0.2.7"), "/192.0.2.7:40000", false)).isEmpty();
        assertThat(SenderAuthentication.plainRefusal(org("bogus"), "/192.0.2.7:40000", false)).isPresent();
    }

    @org.junit.jupiter.api.Test
    void trustingLoopback_withTheListenerOnAPublicAddress_doesNotStart() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SenderAuthentication.requireLoopbackListener(true, true, "0.0.0.0"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("CARERELAY_HL7_HOST");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SenderAuthentication.requireLoopbackListener(true, true, "192.0.2.7"))
                .isInstanceOf(IllegalStateException.class);
        SenderAuthentication.requireLoopbackListener(true, true, "127.0.0.1");
        SenderAuthentication.requireLoopbackListener(true, true, "::1");
        SenderAuthentication.requireLoopbackListener(false, true, "0.0.0.0");
        SenderAuthentication.requireLoopbackListener(true, false, "0.0.0.0");
    }
}
