package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import jakarta.mail.internet.MimeMessage;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

class RegistrationIT extends GatewayIntegrationTest {

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
    void wrongCode_isRefused_andAfterFiveWrongCodesTheRightOneIsVoid() {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Brute"), "+49 30 5550202", null));
        String faxMailbox = "49305550202@" + FAX_DOMAIN;
        int before = mailsTo(faxMailbox).size();
        Participants.requestCode(anonymous(), orgId, "a@brute.example.org");
        String code = Participants.awaitCode(faxMailbox, before + 1);

        for (int i = 1; i <= 4; i++) {
            BaseServerResponseException wrong = catchThrowableOfType(BaseServerResponseException.class,
                    () -> Participants.confirm(anonymous(), orgId, "AAAAA-AAAAA"));
            assertThat(wrong.getStatusCode()).isEqualTo(422);
            assertThat(errorCodeOf(wrong)).isEqualTo(ErrorCode.REGISTRATION_CODE_INVALID);
        }
        BaseServerResponseException fifth = catchThrowableOfType(BaseServerResponseException.class,
                () -> Participants.confirm(anonymous(), orgId, "AAAAA-AAAAA"));
        assertThat(errorCodeOf(fifth)).isEqualTo(ErrorCode.REGISTRATION_CODE_EXPIRED);

        BaseServerResponseException right = catchThrowableOfType(BaseServerResponseException.class,
                () -> Participants.confirm(anonymous(), orgId, code));
        assertThat(right.getStatusCode()).isEqualTo(422);
        assertThat(errorCodeOf(right)).isEqualTo(ErrorCode.REGISTRATION_CODE_EXPIRED);
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
    void codeRequests_areLimitedPerOrganizationAndDay() {
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Praxis Spam"), "+49 30 5550404", null));
        for (int i = 0; i < 3; i++) {
            Participants.requestCode(anonymous(), orgId, "a@spam.example.org");
        }
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> Participants.requestCode(anonymous(), orgId, "a@spam.example.org"));
        assertThat(e.getStatusCode()).isEqualTo(429);
        assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.RATE_LIMITED);
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
