package org.carerelay.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TelecomsTest {

    @Test
    void internationalFaxNumber_givesDigitsWithoutPlus() {
        assertThat(Telecoms.faxDigits("+49 (30) 123-456", "49")).isEqualTo("4930123456");
    }

    @Test
    void nationalFaxNumber_getsDefaultCountryCode() {
        assertThat(Telecoms.faxDigits("030 / 123 456", "49")).isEqualTo("4930123456");
    }

    @Test
    void doubleZeroPrefix_isDropped() {
        assertThat(Telecoms.faxDigits("0041 44 1234567", "49")).isEqualTo("41441234567");
    }

    @Test
    void maskedNumber_keepsPrefixAndLastThreeDigits() {
        assertThat(Telecoms.maskNumber("+49 30 1234567")).isEqualTo("+49 30 ****567");
    }

    @Test
    void maskedEmail_keepsFirstCharacterAndDomain() {
        assertThat(Telecoms.maskEmail("info@klinik.example.org")).isEqualTo("i***@klinik.example.org");
    }

    @Test
    void implausibleEmails_areRejected() {
        assertThat(Telecoms.isPlausibleEmail("a@b.de")).isTrue();
        assertThat(Telecoms.isPlausibleEmail("a@b")).isFalse();
        assertThat(Telecoms.isPlausibleEmail("a b@c.de")).isFalse();
        assertThat(Telecoms.isPlausibleEmail("<a@c.de>")).isFalse();
        assertThat(Telecoms.isPlausibleEmail(null)).isFalse();
    }
}
