package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The plain MLLP listener accepts a frame only from a peer on the HL7 allow-list of the
 * organisation MSH-4 names. The test gateway does not trust loopback, and every 127.x.y.z is this
 * machine, so 127.0.0.2 and 127.0.0.3 play other hosts on the network.
 */
class Hl7SenderAuthenticationIT extends GatewayIntegrationTest {

    static final Charset LATIN1 = StandardCharsets.ISO_8859_1;
    static Participants.Registered klinikum;
    static Participants.Registered rehab;
    static String klinikumAlias;
    static String rehabAlias;

    @BeforeEach
    void participants() {
        if (klinikum == null) {
            klinikum = Participants.registerNew(this, "Klinikum Allow-List");
            rehab = Participants.registerNew(this, "Reha Allow-List");
            klinikumAlias = "KLA" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            rehabAlias = "RHA" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            Participants.addHl7Alias(admin(), klinikum.organizationId(), klinikumAlias, "127.0.0.1");
            Participants.addHl7Alias(admin(), rehab.organizationId(), rehabAlias, "127.0.0.3", "2001:db8:42::/48");
        }
    }

    private static String controlId() {
        return "SA" + UUID.randomUUID().toString().substring(0, 12);
    }

    private String send(String from, String er7) throws Exception {
        return Mllp.exchangeFrom(from, HL7_PORT, er7.getBytes(LATIN1), LATIN1, 30_000);
    }

    /** What the Klinikum finds under the KVNR: a spoofed ADT, had it been accepted, would have created it in its name. */
    private Bundle patientsByKvnr(String kvnr) {
        return client(klinikum.token()).search().forResource(Patient.class)
                .where(Patient.IDENTIFIER.exactly().systemAndCode(Systems.KVNR, kvnr)).returnBundle(Bundle.class).execute();
    }

    private Bundle refusalsAudited(String orgId) {
        return admin().search().byUrl("AuditEvent?entity=Organization/" + orgId + "&subtype=hl7-inbound")
                .returnBundle(Bundle.class).execute();
    }

    private static void assertRefusedAsNotAuthenticated(String ack, String controlId) {
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AR");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(controlId);
        assertThat(Mllp.field(ack, "ERR", 3)).startsWith("204^");
        assertThat(Mllp.field(ack, "ERR", 5)).startsWith("sender-not-authenticated^");
        assertThat(Mllp.field(ack, "ERR", 8)).contains("allow-list");
    }

    @Test
    void strangerOnTheNetwork_sendingAdtInTheNameOfARegisteredClinic_getsARAndNothingIsStored() throws Exception {
        int auditedBefore = refusalsAudited(klinikum.organizationId()).getEntry().size();
        String kvnr = Conversations.kvnr();
        String controlId = controlId();

        String ack = send("127.0.0.2", Hl7InboundIT.adt(klinikumAlias, controlId, kvnr));

        assertRefusedAsNotAuthenticated(ack, controlId);
        assertThat(patientsByKvnr(kvnr).getEntry()).isEmpty();
        Bundle audited = refusalsAudited(klinikum.organizationId());
        assertThat(audited.getEntry()).hasSize(auditedBefore + 1);
        assertThat(audited.getEntry()).anySatisfy(e -> {
            AuditEvent event = (AuditEvent) e.getResource();
            assertThat(event.getOutcome()).isNotEqualTo(AuditEvent.AuditEventOutcome._0);
            assertThat(event.getOutcomeDesc()).contains("allow-list");
        });

        // the same frame from the clinic's allow-listed address is accepted: the refusal was not remembered
        String accepted = send("127.0.0.1", Hl7InboundIT.adt(klinikumAlias, controlId, kvnr));
        assertThat(Mllp.field(accepted, "MSA", 1)).as(accepted).isEqualTo("AA");
        assertThat(patientsByKvnr(kvnr).getEntry()).hasSize(1);
    }

    @Test
    void participantR_sendingWithMsh4OfClinicK_fromItsOwnAllowListedAddress_getsAR() throws Exception {
        String kvnr = Conversations.kvnr();

        // the rehab clinic's own messages from its own address are fine ...
        String own = send("127.0.0.3", Hl7InboundIT.adt(rehabAlias, controlId(), Conversations.kvnr()));
        assertThat(Mllp.field(own, "MSA", 1)).as(own).isEqualTo("AA");

        // ... but its address does not authenticate it as the Klinikum
        String controlId = controlId();
        String spoofed = send("127.0.0.3", Hl7InboundIT.adt(klinikumAlias, controlId, kvnr));
        assertRefusedAsNotAuthenticated(spoofed, controlId);
        assertThat(patientsByKvnr(kvnr).getEntry()).isEmpty();

        // nor does the Klinikum's address authenticate anyone as the rehab clinic
        String other = controlId();
        assertRefusedAsNotAuthenticated(send("127.0.0.1", Hl7InboundIT.adt(rehabAlias, other, kvnr)), other);
    }

    private static void assertRefusedAsUnknownSender(String ack, String controlId) {
        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AR");
        assertThat(Mllp.field(ack, "MSA", 2)).isEqualTo(controlId);
        assertThat(Mllp.field(ack, "ERR", 3)).startsWith("204^");
        assertThat(Mllp.field(ack, "ERR", 5)).startsWith("unknown-sender^");
    }

    @Test
    void directoryOrganisationThatIsNotRegistered_isAnUnknownSender_andMsh3DoesNotStandInForIt() throws Exception {
        // in the directory, with an alias and this address on its allow-list, but never registered
        String digits = "4930" + (long) (Math.random() * 1_000_000_000L);
        String unregistered = Participants.create(admin(),
                Participants.newOrganization(unique("Pflegedienst unregistriert"), "+" + digits, null));
        String alias = "NRG" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), unregistered, alias, "127.0.0.1");
        String kvnr = Conversations.kvnr();

        String controlId = controlId();
        assertRefusedAsUnknownSender(send("127.0.0.1", Hl7InboundIT.adt(alias, controlId, kvnr)), controlId);

        // MSH-4 names it: MSH-3 naming the registered Klinikum (from the Klinikum's address) does not count
        String withMsh3 = controlId();
        assertRefusedAsUnknownSender(send("127.0.0.1", Hl7InboundIT.adt(alias, withMsh3, kvnr)
                .replace("|PFLEGE_SW|", "|" + klinikumAlias + "|")), withMsh3);

        // MSH-3 counts only where MSH-4 names no organisation at all
        String fallback = controlId();
        String ack = send("127.0.0.1", Hl7InboundIT.adt("NOBODY" + UUID.randomUUID().toString().substring(0, 6), fallback, kvnr)
                .replace("|PFLEGE_SW|", "|" + klinikumAlias + "|"));
        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AA");
        assertThat(patientsByKvnr(kvnr).getEntry()).hasSize(1);

        // registered from now on: the same frame as the first is accepted
        String faxMailbox = digits + "@" + FAX_DOMAIN;
        int faxes = mailsTo(faxMailbox).size();
        Participants.requestCode(anonymous(), unregistered, "kontakt@" + unregistered + ".example.org");
        Participants.confirm(anonymous(), unregistered, Participants.awaitCode(faxMailbox, faxes + 1));
        String afterwards = controlId();
        String accepted = send("127.0.0.1", Hl7InboundIT.adt(alias, afterwards, Conversations.kvnr()));
        assertThat(Mllp.field(accepted, "MSA", 1)).as(accepted).isEqualTo("AA");
    }

    @Test
    void organisationWithoutAllowList_isRefusedOnThePlainListener_evenFromLoopback() throws Exception {
        Participants.Registered practice = Participants.registerNew(this, "Praxis ohne Allow-List");
        String alias = "PRA" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), practice.organizationId(), alias, new String[0]);
        String controlId = controlId();
        assertRefusedAsNotAuthenticated(send("127.0.0.1", Hl7InboundIT.adt(alias, controlId, Conversations.kvnr())), controlId);
    }

    @Test
    void garbageInTheAllowList_isRefusedWith422_andRangesAreStoredCanonically() {
        for (String garbage : new String[] {"not-an-address", "10.0.0.1/8", "192.168.1.300", "2001:db8::/129", "example.org",
                "10.1"}) {
            Organization org = admin().read().resource(Organization.class).withId(rehab.organizationId()).execute();
            org.addExtension(Systems.EXT_HL7_ALLOWED_ADDRESS, new StringType(garbage));
            BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                    () -> admin().update().resource(org).execute());
            assertThat(e).as(garbage).isNotNull();
            assertThat(e.getStatusCode()).as(garbage).isEqualTo(422);
            assertThat(errorCodeOf(e)).as(garbage).isEqualTo(ErrorCode.ADDRESS_RANGE_INVALID);
        }
        Organization stored = admin().read().resource(Organization.class).withId(rehab.organizationId()).execute();
        assertThat(stored.getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS)).extracting(x -> x.getValue().primitiveValue())
                .containsExactly("127.0.0.3", "2001:db8:42:0:0:0:0:0/48");
    }

    @Test
    void participantWithAStolenToken_cannotWidenItsOwnAllowList() {
        Organization own = client(rehab.token()).read().resource(Organization.class).withId(rehab.organizationId()).execute();
        own.addExtension(Systems.EXT_HL7_ALLOWED_ADDRESS, new StringType("0.0.0.0/0"));
        BaseServerResponseException e = catchThrowableOfType(BaseServerResponseException.class,
                () -> client(rehab.token()).update().resource(own).execute());
        assertThat(e).isNotNull();
        assertThat(e.getStatusCode()).isEqualTo(403);
        Organization stored = admin().read().resource(Organization.class).withId(rehab.organizationId()).execute();
        assertThat(stored.getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS)).extracting(x -> x.getValue().primitiveValue())
                .doesNotContain("0.0.0.0/0");
    }

    @Test
    void otherParticipants_doNotLearnAnOrganisationsNetworkAddresses() {
        Organization seenByOther = client(klinikum.token()).read().resource(Organization.class).withId(rehab.organizationId()).execute();
        assertThat(seenByOther.getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS)).isEmpty();
        Bundle searched = client(klinikum.token()).search().forResource(Organization.class)
                .where(Organization.RES_ID.exactly().code(rehab.organizationId())).returnBundle(Bundle.class).execute();
        assertThat(searched.getEntry()).singleElement().satisfies(e ->
                assertThat(((Organization) e.getResource()).getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS)).isEmpty());

        Organization seenBySelf = client(rehab.token()).read().resource(Organization.class).withId(rehab.organizationId()).execute();
        assertThat(seenBySelf.getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS)).isNotEmpty();
    }

    @Test
    void directoryCsv_setsTheAllowList_keepsItWhenTheColumnIsEmpty_andRefusesGarbage() throws Exception {
        String id = unique("csv-allow");
        String header = "id,name,type,hl7_alias,hl7_allowed_addresses\n";
        String alias = "CSV" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        assertThat(importCsv(header + id + ",Klinik CSV,hospital," + alias + ",192.0.2.0/24;2001:db8::7\n").statusCode())
                .isEqualTo(200);
        assertThat(allowList(id)).containsExactly("192.0.2.0/24", "2001:db8:0:0:0:0:0:7");

        assertThat(importCsv(header + id + ",Klinik CSV umbenannt,hospital," + alias + ",\n").statusCode()).isEqualTo(200);
        assertThat(allowList(id)).containsExactly("192.0.2.0/24", "2001:db8:0:0:0:0:0:7");

        var refused = importCsv(header + id + ",Klinik CSV,hospital," + alias + ",192.0.2.0/24;hl7.example.org\n");
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).contains("csv-invalid").contains("hl7_allowed_addresses");
        assertThat(allowList(id)).containsExactly("192.0.2.0/24", "2001:db8:0:0:0:0:0:7");
    }

    private java.net.http.HttpResponse<String> importCsv(String csv) throws Exception {
        return http("POST", "/fhir/Organization/$import", ADMIN_TOKEN, "text/csv; charset=utf-8", csv.getBytes(StandardCharsets.UTF_8));
    }

    private java.util.List<String> allowList(String orgId) {
        return admin().read().resource(Organization.class).withId(orgId).execute().getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS)
                .stream().map(x -> x.getValue().primitiveValue()).toList();
    }
}
