package org.carerelay.gateway.registration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jakarta.mail.internet.MimeMessage;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.RawHttp;
import org.carerelay.gateway.config.CareRelayProperties;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

class RegistrationIT extends GatewayIntegrationTest {

    private static final String RegistrationService_GUESS_SCOPE = "registration-code-entry";
    private static final String RegistrationService_REQUEST_SCOPE = "registration-request";

    @Autowired
    JdbcClient jdbc;

    @Autowired
    CareRelayProperties properties;

    /** A client address of its own, forwarded by the trusted test proxy (127.0.0.2). */
    private static String strangerAddress() {
        return "2001:db8:5:" + Integer.toHexString(1 + (int) (Math.random() * 0xfffe)) + "::1"; // a /64 of its own
    }

    /** {@code $register} from {@code clientAddress}, through the trusted proxy. */
    private RawHttp.Response register(String clientAddress, String orgId, String code, String email) throws Exception {
        Parameters in = new Parameters();
        if (code != null) {
            in.addParameter("code", new StringType(code));
        }
        if (email != null) {
            in.addParameter("email", new StringType(email));
        }
        byte[] body = FHIR.newJsonParser().encodeResourceToString(in).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return RawHttp.send("127.0.0.2", port, "POST", "/fhir/Organization/" + orgId + "/$register",
                java.util.Map.of("X-Forwarded-For", clientAddress, "Content-Type", "application/fhir+json"), body);
    }

    /** The address has used up the day's allowance of {@code scope} (as configured). */
    private void exhaust(String scope, String clientAddress) {
        int limit = scope.equals(RegistrationService_GUESS_SCOPE) ? properties.registration().maxCodeAttemptsPerAddress()
                : properties.registration().maxCodeRequestsPerAddress();
        jdbc.sql("update rate_counter set hits = ? where scope = ? and subject = ?").params(limit, scope, org.carerelay.gateway.security.RateCounters.clientKey(clientAddress)).update();
    }

    @Test
    void registrationByFax_codeFromPdfLetter_yieldsWorkingTokenOnce() throws Exception {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Fax"), "+49 30 5550101", null));
        String faxMailbox = "49305550101@" + FAX_DOMAIN;
        int before = mailsTo(faxMailbox).size();

        Parameters sent = Participants.requestCode(anonymous(), orgId, "praxis@fax-test.example.org");
        assertThat(sent.getParameter("channel").getValue().primitiveValue()).isEqualTo("fax");
        assertThat(sent.getParameter("destination").getValue().primitiveValue()).isEqualTo("+49 30 ****101");

        String code = Participants.awaitCode(faxMailbox, before + 1);
        MimeMessage fax = mailsTo(faxMailbox).get(before);
        assertThat(fax.getContent().toString()).doesNotContain(code); // the code is only in the PDF letter

        Parameters result = Participants.confirm(anonymous(), orgId, code);
        String token = result.getParameter("token").getValue().primitiveValue();
        assertThat(token).startsWith("crt_");

        Bundle found = client(token).search().forResource(Organization.class)
                .where(Organization.RES_ID.exactly().code(orgId)).returnBundle(Bundle.class).execute();
        Organization self = (Organization) found.getEntryFirstRep().getResource();
        assertThat(((BooleanType) self.getExtensionByUrl(Systems.EXT_REGISTERED).getValue()).booleanValue()).isTrue();

        BaseServerResponseException again = catchThrowableOfType(BaseServerResponseException.class,
                () -> Participants.confirm(anonymous(), orgId, code));
        assertThat(again.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(again)).isEqualTo(ErrorCode.REGISTRATION_CODE_EXPIRED);
    }

    @Test
    void organizationWithoutFax_getsCodeByEmail() {
        String mailbox = unique("pflege") + "@mail-test.example.org";
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Pflegedienst Mail"), null, mailbox));

        Parameters sent = Participants.requestCode(anonymous(), orgId, "team@mail-test.example.org");
        assertThat(sent.getParameter("channel").getValue().primitiveValue()).isEqualTo("email");

        String code = Participants.awaitCode(mailbox, 1);
        Parameters result = Participants.confirm(anonymous(), orgId, code);
        assertThat(result.getParameter("token")).isNotNull();
    }

    @Test
    void strangerGuessingWrongCodes_doesNotVoidThePracticesCode_andIsLimitedByAddress() throws Exception {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Brute"), "+49 30 5550202", null));
        String faxMailbox = "49305550202@" + FAX_DOMAIN;
        int before = mailsTo(faxMailbox).size();
        Participants.requestCode(anonymous(), orgId, null);
        String code = Participants.awaitCode(faxMailbox, before + 1);

        String stranger = strangerAddress();
        for (int i = 1; i <= 8; i++) {
            RawHttp.Response wrong = register(stranger, orgId, "AAAAA-AAAAA", "x@stranger.example.org");
            assertThat(wrong.status()).isEqualTo(422);
            assertThat(wrong.body()).contains("registration-code-invalid");
        }
        // the stranger's address has used up its entries for the day: 429, and the code is not even checked
        exhaust(RegistrationService_GUESS_SCOPE, stranger);
        RawHttp.Response limited = register(stranger, orgId, code, "x@stranger.example.org");
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.body()).contains("rate-limited");
        assertThat(limited.header("Retry-After")).isNotNull();

        Parameters result = Participants.confirm(anonymous(), orgId, code, "praxis@brute.example.org");
        assertThat(result.getParameter("token")).isNotNull();
    }

    @Test
    void confirmWithoutRequest_isRefusedAsNotPending() {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Ohne"), "+49 30 5550303", null));
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Participants.confirm(anonymous(), orgId, "ABCDE-FGHJK"));
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.REGISTRATION_NOT_PENDING);
    }

    @Test
    void organizationWithoutFaxOrEmail_cannotRegister() {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Stumm"), null, null));
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Participants.requestCode(anonymous(), orgId, "x@stumm.example.org"));
        assertThat(e.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.REGISTRATION_NO_CHANNEL);
    }

    @Test
    void strangerRepeatingCodeRequests_sendsNoNewFax_andCannotLockThePracticeOut() throws Exception {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Spam"), "+49 30 5550404", null));
        String faxMailbox = "49305550404@" + FAX_DOMAIN;
        int before = mailsTo(faxMailbox).size();
        String stranger = strangerAddress();
        RawHttp.Response first = register(stranger, orgId, null, null);
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.body()).contains("\"sent\"").contains("true");
        String code = Participants.awaitCode(faxMailbox, before + 1);
        for (int i = 0; i < 6; i++) {
            RawHttp.Response again = register(stranger, orgId, null, "a@spam.example.org");
            assertThat(again.status()).isEqualTo(200);
            assertThat(again.body()).contains("+49 30 ****404").doesNotContain("true");
        }
        // the practice asks too: told where the pending code went, nothing new is sent
        Parameters practice = Participants.requestCode(anonymous(), orgId, null);
        assertThat(practice.getParameter("channel").getValue().primitiveValue()).isEqualTo("fax");
        assertThat(((BooleanType) practice.getParameter("sent").getValue()).booleanValue()).isFalse();
        Thread.sleep(1_000);
        assertThat(mailsTo(faxMailbox)).hasSize(before + 1);

        // beyond its daily requests, the stranger's address gets 429
        exhaust(RegistrationService_REQUEST_SCOPE, stranger);
        assertThat(register(stranger, orgId, null, null).status()).isEqualTo(429);

        assertThat(Participants.confirm(anonymous(), orgId, code).getParameter("token")).isNotNull();
    }

    @Test
    void strangersStepOneAddress_neverBecomesTheContact_theCodeIsRedeemedOnlyWithAnAddress() throws Exception {
        String mailbox = unique("praxis") + "@hijack-test.example.org";
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Hijack"), null, mailbox));
        String attacker = unique("attacker") + "@evil.example.org";
        Participants.requestCode(anonymous(), orgId, attacker);
        String code = Participants.awaitCode(mailbox, 1);
        assertThat(Participants.allText(mailsTo(mailbox).get(0))).contains("'email'");

        // the practice types only the code: refused, nothing is taken from step 1
        BaseServerResponseException withoutAddress = catchThrowableOfType(BaseServerResponseException.class,
                () -> Participants.confirm(anonymous(), orgId, code, null));
        assertThat(withoutAddress.getStatusCode()).isEqualTo(400);
        assertThat(withoutAddress.getMessage()).contains("email");

        String contact = unique("team") + "@hijack-test.example.org";
        String token = Participants.confirm(anonymous(), orgId, code, contact).getParameter("token").getValue().primitiveValue();
        Participants.Registered partner = Participants.registerNew(this, "Klinik Absender");
        Conversations.send(client(partner.token()), Conversations.message(null, "Guten Tag", orgId));
        await().atMost(java.time.Duration.ofSeconds(30)).until(() -> mailsTo(contact).size() >= 1);
        assertThat(mailsTo(attacker)).isEmpty();
        assertThat(token).startsWith("crt_");
    }

    @Test
    void rotatedToken_replacesTheOldOne() {
        Participants.Registered p = Participants.registerNew(this, "Praxis Rotation");
        Parameters rotated = client(p.token()).operation().onInstance("Organization/" + p.organizationId())
                .named("$rotate-token").withNoParameters(Parameters.class).execute();
        String newToken = rotated.getParameter("token").getValue().primitiveValue();

        assertThat(client(newToken).read().resource(Organization.class).withId(p.organizationId()).execute()).isNotNull();
        BaseServerResponseException old = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(p.token()).read().resource(Organization.class).withId(p.organizationId()).execute());
        assertThat(old.getStatusCode()).isEqualTo(401);
    }

    @Test
    void deregistration_voidsTokenAndKeepsTheDirectoryEntryUnregistered() {
        Participants.Registered p = Participants.registerNew(this, "Praxis Abmeldung");
        client(p.token()).operation().onInstance("Organization/" + p.organizationId())
                .named("$deregister").withNoParameters(Parameters.class).execute();

        assertThatThrownBy(() -> client(p.token()).read().resource(Organization.class).withId(p.organizationId()).execute())
                .isInstanceOf(BaseServerResponseException.class)
                .satisfies(e -> assertThat(((BaseServerResponseException) e).getStatusCode()).isEqualTo(401));
        Organization entry = admin().read().resource(Organization.class).withId(p.organizationId()).execute();
        assertThat(((BooleanType) entry.getExtensionByUrl(Systems.EXT_REGISTERED).getValue()).booleanValue()).isFalse();
    }

    @Test
    void participant_cannotRotateAnotherOrganizationsToken() {
        Participants.Registered a = Participants.registerNew(this, "Praxis A");
        Participants.Registered b = Participants.registerNew(this, "Praxis B");
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(a.token()).operation().onInstance("Organization/" + b.organizationId())
                        .named("$rotate-token").withNoParameters(Parameters.class).execute());
        assertThat(e.getStatusCode()).isEqualTo(403);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.FORBIDDEN);
    }
}
