package org.carerelay.gateway.patient;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.hl7.Hl7InboundIT;
import org.carerelay.gateway.patient.PatientSealingMigration;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** Names, birth dates, addresses and KVNRs are encrypted at rest; lookups go through keyed hashes. */
class PatientEncryptionIT extends GatewayIntegrationTest {

    static final String MRN_SYSTEM = "https://fhir.example.org/sid/mrn";

    @Autowired
    JdbcClient jdbc;
    @Autowired
    PatientSealingMigration migration;

    static Participants.Registered clinic;

    @BeforeEach
    void participants() {
        if (clinic == null) {
            clinic = Participants.registerNew(this, "Klinik Verschluesselt");
        }
    }

    /** Every row the database holds about the patient, as text (binary columns as Latin-1). */
    private String rowsAbout(String patientId) {
        StringBuilder all = new StringBuilder();
        for (String table : List.of("fhir_resource", "fhir_resource_history")) {
            jdbc.sql("select content::text, sealed from " + table + " where resource_type = 'Patient' and id = ?").param(patientId)
                    .query((rs, i) -> all.append(rs.getString(1)).append(' ')
                            .append(rs.getBytes(2) == null ? "" : new String(rs.getBytes(2), StandardCharsets.ISO_8859_1)).append('\n'))
                    .list();
        }
        for (String sql : List.of("select kvnr from patient_kvnr where patient_id = ?",
                "select kvnr from patient_kvnr_local where patient_id = ?",
                "select system || ' ' || value from patient_identifier where patient_id = ?",
                "select kind || ' ' || hash from patient_search_token where patient_id = ?")) {
            jdbc.sql(sql).param(patientId).query(String.class).list().forEach(v -> all.append(v).append('\n'));
        }
        return all.toString();
    }

    private List<String> search(String query) {
        return client(clinic.token()).search().byUrl("Patient?" + query).returnBundle(Bundle.class).execute()
                .getEntry().stream().map(e -> e.getResource().getIdElement().getIdPart()).toList();
    }

    /** A family name no other test uses: "Zyx" and six letters, then "-Brand". */
    private static String uniqueFamily() {
        StringBuilder letters = new StringBuilder("Zyx");
        for (int i = 0; i < 6; i++) {
            letters.append((char) ('a' + (int) (Math.random() * 26)));
        }
        return letters + "-Brand";
    }

    private static Patient patient(String family, String kvnr, String mrn) {
        Patient patient = Conversations.patient(family, "Quirina", kvnr);
        patient.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1937-05-29"));
        patient.addIdentifier().setSystem(MRN_SYSTEM).setValue(mrn);
        patient.addAddress().addLine("Xylophonweg 7").setPostalCode("06484").setCity("Quedlinburg");
        return patient;
    }

    @Test
    void patientDemographicsInTheTables_areEncrypted_andFoundOnlyByExactKeyedHashes() {
        String kvnr = Conversations.kvnr();
        String mrn = "MRN" + UUID.randomUUID().toString().substring(0, 8);
        String family = uniqueFamily();
        String piece = family.substring(0, family.indexOf('-'));
        String patientId = Conversations.createPatient(client(clinic.token()), patient(family, kvnr, mrn));
        List<String> hashRows = hashRowVersions(patientId);
        Patient changed = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        changed.getAddressFirstRep().getLine().get(0).setValue("Yttriumgasse 3");
        client(clinic.token()).update().resource(changed).execute();
        assertThat(hashRowVersions(patientId)).as("search hashes untouched by an address change").isEqualTo(hashRows);

        String rows = rowsAbout(patientId);
        assertThat(jdbc.sql("select count(*) from fhir_resource_history where resource_type = 'Patient' and id = ?")
                .param(patientId).query(Integer.class).single()).isEqualTo(2);
        assertThat(rows).contains("Patient").doesNotContain(piece).doesNotContain(piece.toLowerCase()).doesNotContain("Quirina")
                .doesNotContain("1937-05-29").doesNotContain("29.05.1937").doesNotContain(kvnr).doesNotContain(mrn).doesNotContain("Xylophonweg")
                .doesNotContain("Yttriumgasse").doesNotContain("Quedlinburg");
        assertThat(jdbc.sql("select count(*) from patient_kvnr where patient_id = ?").param(patientId).query(Integer.class).single())
                .isEqualTo(1);

        Patient read = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        assertThat(read.getNameFirstRep().getFamily()).isEqualTo(family);
        assertThat(read.getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Yttriumgasse 3");

        assertThat(search("identifier=" + Systems.KVNR + "|" + kvnr)).containsExactly(patientId);
        assertThat(search("identifier=" + mrn)).containsExactly(patientId);
        assertThat(search("family=" + family.toUpperCase())).containsExactly(patientId);
        assertThat(search("family=" + piece + "&given=quirina&birthdate=1937-05-29")).containsExactly(patientId);
        assertThat(search("name=Quirina%20" + family)).containsExactly(patientId);
        assertThat(search("family=" + piece.substring(0, piece.length() - 1))).as("no substring match").isEmpty();
        assertThat(search("family=" + piece + "&birthdate=1937-05-30")).isEmpty();

        // a new name replaces the hashes
        String married = uniqueFamily();
        Patient renamed = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        renamed.getNameFirstRep().setFamily(married);
        client(clinic.token()).update().resource(renamed).execute();
        assertThat(search("family=" + married)).containsExactly(patientId);
        assertThat(search("name=Quirina%20" + married)).containsExactly(patientId);
        assertThat(search("family=" + family)).isEmpty();
        assertThat(search("given=quirina&birthdate=1937-05-29&identifier=" + mrn)).containsExactly(patientId);
        assertThat(hashRowVersions(patientId)).doesNotContainAnyElementsOf(hashRows);
    }

    /** The search hash rows of a patient with the transaction that wrote each (PostgreSQL's xmin). */
    private List<String> hashRowVersions(String patientId) {
        return jdbc.sql("select kind || ' ' || hash || ' ' || xmin from patient_search_token where patient_id = ? order by kind, hash")
                .param(patientId).query(String.class).list();
    }

    @Test
    void patientsStoredInPlaintextByAnEarlierVersion_areEncryptedOnStart() {
        String kvnr = Conversations.kvnr();
        String mrn = "MRN" + UUID.randomUUID().toString().substring(0, 8);
        String patientId = UUID.randomUUID().toString();
        String family = uniqueFamily();
        String piece = family.substring(0, family.indexOf('-'));
        Patient legacy = patient(family, kvnr, mrn);
        legacy.setId(patientId);
        legacy.getMeta().setVersionId("1").setLastUpdated(new java.util.Date());
        String json = FHIR.newJsonParser().encodeResourceToString(legacy);
        for (String table : List.of("fhir_resource", "fhir_resource_history")) {
            jdbc.sql("insert into " + table + " (resource_type, id, version_id, last_updated, content) values ('Patient', ?, 1, ?, ?::jsonb)")
                    .params(patientId, Timestamp.from(Instant.now()), json).update();
        }
        jdbc.sql("insert into patient_access (patient_id, organization_id, granted_at, reason) values (?, ?, ?, 'created')")
                .params(patientId, clinic.organizationId(), Timestamp.from(Instant.now())).update();
        jdbc.sql("insert into patient_kvnr (kvnr, patient_id) values (?, ?)").params(kvnr, patientId).update();
        jdbc.sql("insert into patient_identifier (assigner_org, system, value, patient_id) values (?, ?, ?, ?)")
                .params(clinic.organizationId(), MRN_SYSTEM, mrn, patientId).update();
        assertThat(rowsAbout(patientId)).contains(piece).contains(kvnr).contains(mrn);

        assertThat(migration.migrate()).isGreaterThanOrEqualTo(4);

        assertThat(rowsAbout(patientId)).doesNotContain(piece).doesNotContain("Quirina").doesNotContain("1937-05-29").doesNotContain("29.05.1937")
                .doesNotContain(kvnr).doesNotContain(mrn).doesNotContain("Xylophonweg");
        assertThat(client(clinic.token()).read().resource(Patient.class).withId(patientId).execute()
                .getNameFirstRep().getGivenAsSingleString()).isEqualTo("Quirina");
        assertThat(search("identifier=" + Systems.KVNR + "|" + kvnr)).containsExactly(patientId);
        assertThat(search("family=" + family + "&birthdate=1937-05-29")).containsExactly(patientId);
        // the same KVNR again finds the converted patient, not a twin
        assertThat(Conversations.createPatient(client(clinic.token()), patient(family, kvnr, mrn))).isEqualTo(patientId);
    }

    /**
     * Puts a patient back into the state an earlier version left it in: its current version stored in
     * plaintext, no search rows (the lookup tables already hashed, as after a start whose conversion
     * of this one row failed).
     */
    private void storeAsAnEarlierVersionDid(String patientId) {
        Patient current = client(clinic.token()).read().resource(Patient.class).withId(patientId).execute();
        PatientService.stripComputed(current);
        String json = FHIR.newJsonParser().encodeResourceToString(current);
        assertThat(jdbc.sql("update fhir_resource set content = ?::jsonb, sealed = null, key_id = null where resource_type = 'Patient' and id = ?")
                .params(json, patientId).update()).isEqualTo(1);
        jdbc.sql("delete from patient_search_token where patient_id = ?").param(patientId).update();
    }

    @Test
    void anUpdateOfAPatientStillStoredInPlaintext_writesItsSearchRows_thoughTheNamesStayTheSame() throws Exception {
        // over FHIR: another address, the same names
        String family = uniqueFamily();
        String kvnr = Conversations.kvnr();
        String viaFhir = Conversations.createPatient(client(clinic.token()), patient(family, kvnr, "MRN" + UUID.randomUUID().toString().substring(0, 8)));
        storeAsAnEarlierVersionDid(viaFhir);
        assertThat(search("family=" + family)).isEmpty();
        Patient moved = client(clinic.token()).read().resource(Patient.class).withId(viaFhir).execute();
        moved.getAddressFirstRep().getLine().get(0).setValue("Xylophonweg 9");
        client(clinic.token()).update().resource(moved).execute();
        assertThat(search("family=" + family)).containsExactly(viaFhir);

        // over HL7v2: an ADT^A08 with another address and the demographics as stored
        String alias = "ENC" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), clinic.organizationId(), alias);
        String hl7Kvnr = Conversations.kvnr();
        String adt = Hl7InboundIT.adt(alias, "EN1" + UUID.randomUUID().toString().substring(0, 8), hl7Kvnr);
        assertThat(Mllp.field(Hl7InboundIT.send(adt, StandardCharsets.ISO_8859_1), "MSA", 1)).isEqualTo("AA");
        String viaHl7 = Conversations.patientIdByKvnr(client(clinic.token()), hl7Kvnr);
        assertThat(search("identifier=" + Systems.KVNR + "|" + hl7Kvnr + "&family=M%C3%BC%C3%9Fig")).containsExactly(viaHl7);
        storeAsAnEarlierVersionDid(viaHl7);
        assertThat(search("identifier=" + Systems.KVNR + "|" + hl7Kvnr + "&family=M%C3%BC%C3%9Fig")).isEmpty();
        String a08 = adt.replace("EN1", "EN2").replace("ADT^A01^", "ADT^A08^").replace("EVN|A01|", "EVN|A08|")
                .replace("Straße der Einheit 5", "Straße der Einheit 8");
        assertThat(Mllp.field(Hl7InboundIT.send(a08, StandardCharsets.ISO_8859_1), "MSA", 1)).isEqualTo("AA");
        assertThat(client(clinic.token()).read().resource(Patient.class).withId(viaHl7).execute()
                .getAddressFirstRep().getLine().get(0).getValue()).isEqualTo("Straße der Einheit 8");
        assertThat(search("identifier=" + Systems.KVNR + "|" + hl7Kvnr + "&family=M%C3%BC%C3%9Fig")).containsExactly(viaHl7);
    }

    /**
     * An identifier whose system or value element is there with only an id (no value), as FHIR allows
     * ({@code "_system": {"id": …}}): accepted, neither indexed nor looked up, not a 500.
     */
    @Test
    void identifierElementsWithoutAValue_areNeitherIndexedNorLookedUp() {
        String kvnr = Conversations.kvnr();
        Patient patient = patient(uniqueFamily(), kvnr, "MRN" + UUID.randomUUID().toString().substring(0, 8));
        String json = FhirContext.forR4Cached().newJsonParser().encodeResourceToString(patient);
        // as the client would send them: the element's id under "_system" / "_value", no value
        String extra = ",{\"_system\":{\"id\":\"s1\"},\"value\":\"V" + UUID.randomUUID()
                + "\"},{\"system\":\"" + MRN_SYSTEM + "\",\"_value\":{\"id\":\"v1\"}}";
        int end = json.indexOf(']', json.indexOf("\"identifier\""));
        String withElementsWithoutValue = json.substring(0, end) + extra + json.substring(end);
        assertThat(withElementsWithoutValue).contains("\"_system\":{\"id\":\"s1\"}");
        String patientId = client(clinic.token()).create().resource(withElementsWithoutValue).execute().getId().getIdPart();
        // the second create looks the patient up by its identifiers and KVNR
        assertThat(client(clinic.token()).create().resource(withElementsWithoutValue).execute().getId().getIdPart())
                .isEqualTo(patientId);
        assertThat(jdbc.sql("select count(*) from patient_identifier where patient_id = ?").param(patientId)
                .query(Integer.class).single()).as("only the MRN with system and value").isEqualTo(1);
    }
}
