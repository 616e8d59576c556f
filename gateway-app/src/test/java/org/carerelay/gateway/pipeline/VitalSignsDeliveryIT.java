package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.ValidationResult;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.FakeFhirRecipient;
import org.carerelay.gateway.FakeMllpRecipient;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Vital signs from an IHE PCD-01 {@code ORU^R01} (the IPF sample, with a second order of pulse
 * oximetry and temperature) received over MLLP and delivered to a partner's FHIR server and to a
 * partner's HL7v2 system: every value arrives, the FHIR Communication is valid R4.
 */
class VitalSignsDeliveryIT extends GatewayIntegrationTest {

    static Participants.Registered device;
    static Participants.Registered hospital;
    static Participants.Registered careService;
    static FakeFhirRecipient hospitalServer;
    static FakeMllpRecipient careSystem;
    static final List<String> careFrames = new CopyOnWriteArrayList<>();
    static String deviceAlias;
    static String hospitalAlias;
    static String careAlias;

    @BeforeEach
    void participants() throws Exception {
        if (device == null) {
            hospitalServer = new FakeFhirRecipient();
            careSystem = new FakeMllpRecipient(message -> {
                careFrames.add(message.encode());
                return message.generateACK();
            });
            device = Participants.registerNew(this, "Vitaldaten-Gateway Station 3");
            hospital = Participants.registerNew(this, "Krankenhaus Vitalwerte FHIR");
            careService = Participants.registerNew(this, "Pflegedienst Vitalwerte MLLP");
            String suffix = UUID.randomUUID().toString().substring(0, 6).toUpperCase();
            deviceAlias = "VIT" + suffix;
            hospitalAlias = "KHV" + suffix;
            careAlias = "PFV" + suffix;
            Participants.addHl7Alias(admin(), device.organizationId(), deviceAlias);
            Participants.addHl7Alias(admin(), hospital.organizationId(), hospitalAlias);
            Participants.addHl7Alias(admin(), careService.organizationId(), careAlias);
            Participants.addEndpoint(admin(), hospital.organizationId(), "hl7-fhir-rest", hospitalServer.baseUrl(), null);
            Participants.addEndpoint(admin(), careService.organizationId(), "hl7v2-mllp", careSystem.address(), null);
        }
    }

    @AfterAll
    static void stopPartners() throws IOException {
        if (hospitalServer != null) {
            hospitalServer.close();
        }
        if (careSystem != null) {
            careSystem.close();
        }
    }

    /**
     * The IPF PCD-01 sample as the device gateway sends it here: MSH-4/MSH-6 name the sender and the
     * recipient, the PID carries the patient's KVNR, original acknowledgment mode; a second order
     * (pulse oximetry, temperature) follows the blood pressure.
     */
    private static String pcd01(String recipientAlias, String kvnr) throws IOException {
        String sample;
        try (InputStream in = VitalSignsDeliveryIT.class.getResourceAsStream("/hl7v2/ipf_pcd01-ORU-R01-vitals.hl7")) {
            sample = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        StringBuilder er7 = new StringBuilder();
        for (String segment : sample.split("\r\n|\r|\n")) {
            if (segment.startsWith("MSH|")) {
                er7.append("MSH|^~\\&|AcmeInc^ACDE48234567ABCD^EUI-64|").append(deviceAlias).append("||").append(recipientAlias)
                        .append("|20090713090030+0500||ORU^R01^ORU_R01|V").append(UUID.randomUUID().toString().substring(0, 12))
                        .append("|P|2.6\r");
            } else if (segment.startsWith("PID|")) {
                er7.append("PID|||").append(kvnr).append("^^^KVNR^KVNR~789567^^^Imaginary Hospital^PI||Doe^John^Joseph^^^^L^A|||M\r");
            } else if (!segment.isBlank()) {
                er7.append(segment).append('\r');
            }
        }
        er7.append("OBR|2|AB12346^AcmeAHDInc^ACDE48234567ABCD^EUI-64|CD12346^AcmeAHDInc^ACDE48234567ABCD^EUI-64|"
                        + "528388^MDC_DEV_SPEC_PROFILE_PULS_OXIM^MDC|||20090813095815+0500\r")
                .append("OBX|6|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|2.0.1.1|98|262688^MDC_DIM_PERCENT^MDC|||||R\r")
                .append("OBX|7|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|2.0.1.2|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r")
                .append("OBX|8|NM|150364^MDC_TEMP_BODY^MDC|2.0.1.3|37.2|268192^MDC_DIM_DEGC^MDC|||||R|||20090813095900+0500\r");
        return er7.toString();
    }

    private String patientWithConsent(String kvnr) {
        String patientId = Conversations.createPatient(client(device.token()), Conversations.patient("Doe", "John", kvnr));
        Conversations.uploadConsent(client(device.token()), patientId, device.organizationId(), hospital.organizationId(),
                careService.organizationId());
        return patientId;
    }

    /** Expected per code: value and UCUM unit. */
    private static final Map<String, String> EXPECTED = Map.of(
            "150021", "120 mm[Hg]", "150022", "80 mm[Hg]", "150023", "100 mm[Hg]",
            "150456", "98 %", "149530", "72 /min", "150364", "37.2 Cel");

    @Test
    void oruVitalSigns_deliveredToAFhirPartner_arriveWithEveryObservation_asValidR4() throws Exception {
        String kvnr = Conversations.kvnr();
        patientWithConsent(kvnr);
        int before = hospitalServer.communications.size();

        String ack = Mllp.exchange(HL7_PORT, pcd01(hospitalAlias, kvnr).getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8, 30_000);
        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AA");

        await().atMost(Duration.ofSeconds(30)).until(() -> hospitalServer.communications.size() > before);
        Communication received = hospitalServer.communications.get(before);
        List<Observation> observations = received.getContained().stream()
                .filter(Observation.class::isInstance).map(Observation.class::cast).toList();
        // 6 values and the blood pressure panel built from the systolic and diastolic value
        assertThat(observations).hasSize(7);
        assertThat(received.getContained()).filteredOn(Patient.class::isInstance).hasSize(1);
        List<String> references = received.getPayload().stream().filter(p -> p.hasContentReference())
                .map(p -> p.getContentReference().getReference()).toList();
        assertThat(references).hasSize(7);
        for (String reference : references) {
            assertThat(received.getContained()).as("contained resource for " + reference)
                    .anyMatch(r -> reference.equals("#" + r.getIdElement().getIdPart().replaceFirst("^#", "")));
        }
        for (Map.Entry<String, String> expected : EXPECTED.entrySet()) {
            Observation observation = observations.stream().filter(o -> o.getCode().getCoding().stream()
                    .anyMatch(c -> expected.getKey().equals(c.getCode()))).findFirst().orElseThrow();
            Quantity value = observation.getValueQuantity();
            assertThat(value.getValue().stripTrailingZeros().toPlainString() + " " + value.getCode()).isEqualTo(expected.getValue());
            assertThat(value.getSystem()).isEqualTo("http://unitsofmeasure.org");
            assertThat(observation.getSubject().getReference()).isEqualTo("#patient");
        }
        Observation temperature = observations.stream().filter(o -> o.getCode().getCoding().stream()
                .anyMatch(c -> "8310-5".equals(c.getCode()))).findFirst().orElseThrow();
        assertThat(temperature.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2009-08-13T09:59:00+05:00");
        Observation systolic = observations.stream().filter(o -> o.getCode().getCoding().stream()
                .anyMatch(c -> "8480-6".equals(c.getCode()))).findFirst().orElseThrow();
        assertThat(systolic.getEffectiveDateTimeType().getValueAsString()).isEqualTo("2009-08-13T09:57:15+05:00");
        Observation panel = observations.stream().filter(o -> o.getCode().getCoding().stream()
                .anyMatch(c -> "85354-9".equals(c.getCode()))).findFirst().orElseThrow();
        assertThat(panel.getComponent()).extracting(c -> c.getValueQuantity().getValue()).containsExactly(
                new BigDecimal("120"), new BigDecimal("80"));

        ValidationResult result = r4CoreValidator().validateWithResult(received);
        List<String> errors = result.getMessages().stream()
                .filter(m -> m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL)
                .map(m -> m.getLocationString() + ": " + m.getMessage()).toList();
        assertThat(errors).as(FHIR.newJsonParser().setPrettyPrint(true).encodeResourceToString(received)).isEmpty();
    }

    @Test
    void oruVitalSigns_deliveredToAnMllpPartner_keepValuesUnitsCodesAndTimes() throws Exception {
        String kvnr = Conversations.kvnr();
        patientWithConsent(kvnr);
        int before = careFrames.size();

        String ack = Mllp.exchange(HL7_PORT, pcd01(careAlias, kvnr).getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8, 30_000);
        assertThat(Mllp.field(ack, "MSA", 1)).as(ack).isEqualTo("AA");

        await().atMost(Duration.ofSeconds(30)).until(() -> careFrames.size() > before);
        String frame = careFrames.get(before);
        List<String[]> numeric = Arrays.stream(frame.split("\r")).filter(s -> s.startsWith("OBX|"))
                .map(s -> s.split("\\|", -1)).filter(f -> "NM".equals(f[2])).toList();
        for (Map.Entry<String, String> expected : EXPECTED.entrySet()) {
            String[] obx = numeric.stream().filter(f -> f[3].startsWith(expected.getKey() + "^") || f[3].contains("^" + expected.getKey() + "^"))
                    .findFirst().orElseThrow(() -> new AssertionError("no OBX for " + expected.getKey() + " in\n" + frame.replace('\r', '\n')));
            String[] value = expected.getValue().split(" ");
            assertThat(new BigDecimal(obx[5])).isEqualByComparingTo(value[0]);
            assertThat(obx[6]).startsWith(value[1] + "^").endsWith("^UCUM");
            assertThat(obx[3]).contains("^MDC");
            assertThat(obx[14]).startsWith("2009081309");
        }
        assertThat(numeric).as("one NM row per value, the panel not repeated").hasSize(6);
        String temperature = numeric.stream().filter(f -> f[3].contains("150364")).findFirst().orElseThrow()[14];
        assertThat(temperature).isEqualTo("20090813095900+0500");
        assertThat(numeric.stream().filter(f -> f[3].contains("150021")).findFirst().orElseThrow()[3]).contains("8480-6^").contains("^LN");
    }

    @Test
    void containedReferencesToInternalResources_reachAStrictPartner_withoutCareRelayIds() throws Exception {
        String kvnr = Conversations.kvnr();
        String patientId = patientWithConsent(kvnr);
        String otherPatient = Conversations.createPatient(client(device.token()),
                Conversations.patient("Anders", "Anna", Conversations.kvnr()));
        int before = hospitalServer.communications.size();
        int refusalsBefore = hospitalServer.refusals.size();

        Communication message = Conversations.message(patientId, "Blutdruck siehe Anlage.", hospital.organizationId());
        Observation pressure = new Observation();
        pressure.setId("bp");
        pressure.setStatus(Observation.ObservationStatus.FINAL);
        pressure.getCode().addCoding().setSystem("http://loinc.org").setCode("8480-6").setDisplay("Systolic blood pressure");
        pressure.setValue(new Quantity().setValue(120).setSystem("http://unitsofmeasure.org").setCode("mm[Hg]").setUnit("mm[Hg]"));
        pressure.setSubject(new org.hl7.fhir.r4.model.Reference("Patient/" + patientId));
        pressure.addFocus(new org.hl7.fhir.r4.model.Reference("Patient/" + otherPatient));
        pressure.addPerformer(new org.hl7.fhir.r4.model.Reference("Organization/" + device.organizationId())
                .setDisplay("Vitaldaten-Gateway"));
        message.addContained(pressure);
        message.addPayload().setContent(new org.hl7.fhir.r4.model.Reference("#bp"));
        String messageId = Conversations.send(client(device.token()), message);

        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(
                Conversations.deliveryStates(client(device.token()), messageId).get(hospital.organizationId())));
        assertThat(hospitalServer.refusals.subList(refusalsBefore, hospitalServer.refusals.size())).isEmpty();
        Communication received = hospitalServer.communications.get(before);
        String json = FHIR.newJsonParser().encodeResourceToString(received);
        assertThat(json).doesNotContain(patientId).doesNotContain(otherPatient).doesNotContain(device.organizationId());
        Observation delivered = received.getContained().stream().filter(Observation.class::isInstance)
                .map(Observation.class::cast).findFirst().orElseThrow();
        assertThat(delivered.getSubject().getReference()).isEqualTo("#patient");
        assertThat(delivered.getFocusFirstRep().hasReference()).isFalse();
        assertThat(delivered.getFocusFirstRep().getDisplay()).isEqualTo("Patient");
        assertThat(delivered.getPerformerFirstRep().hasReference()).isFalse();
        assertThat(delivered.getPerformerFirstRep().getDisplay()).isEqualTo("Vitaldaten-Gateway");
    }

    @Test
    void conditionalCreateToAPartner_sendsOnlyTheSearchQuery_asFhirDefinesIfNoneExist() throws Exception {
        String kvnr = Conversations.kvnr();
        String patientId = patientWithConsent(kvnr);
        int before = hospitalServer.communications.size();
        int headersBefore = hospitalServer.ifNoneExistHeaders.size();

        String messageId = Conversations.send(client(device.token()),
                Conversations.message(patientId, "Blutdruck bitte morgen erneut messen.", hospital.organizationId()));

        await().atMost(Duration.ofSeconds(30)).until(() -> "delivered".equals(
                Conversations.deliveryStates(client(device.token()), messageId).get(hospital.organizationId())));
        assertThat(hospitalServer.communications).hasSize(before + 1);
        assertThat(hospitalServer.ifNoneExistHeaders.subList(headersBefore, hospitalServer.ifNoneExistHeaders.size()))
                .containsExactly("identifier=urn:ietf:rfc:3986|urn:uuid:" + messageId);
    }

    @Test
    void strictPartnerServer_refusesAUrlInIfNoneExist_andHonoursTheQuery() throws Exception {
        try (FakeFhirRecipient server = new FakeFhirRecipient()) {
            IGenericClient partner = FHIR.newRestfulGenericClient(server.baseUrl());
            Communication message = new Communication().setStatus(Communication.CommunicationStatus.COMPLETED);
            message.addIdentifier().setSystem("urn:ietf:rfc:3986").setValue("urn:uuid:" + UUID.randomUUID());
            String query = "identifier=urn:ietf:rfc:3986|" + message.getIdentifierFirstRep().getValue();

            assertThatThrownBy(() -> partner.create().resource(message)
                    .withAdditionalHeader("If-None-Exist", server.baseUrl() + "/Communication?" + query).execute())
                    .isInstanceOf(InvalidRequestException.class)
                    .satisfies(e -> assertThat(((InvalidRequestException) e).getOperationOutcome()).isNotNull());
            assertThat(server.communications).isEmpty();

            var first = partner.create().resource(message).withAdditionalHeader("If-None-Exist", query).execute();
            var second = partner.create().resource(message).withAdditionalHeader("If-None-Exist", query).execute();
            assertThat(first.getCreated()).isTrue();
            assertThat(second.getCreated()).isNotEqualTo(Boolean.TRUE);
            assertThat(second.getId().getIdPart()).isEqualTo(first.getId().getIdPart());
            assertThat(server.communications).hasSize(1);

            HttpResponse<String> plainText = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.baseUrl() + "/Communication"))
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("hallo")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(plainText.statusCode()).isEqualTo(415);
            assertThat(plainText.body()).contains("OperationOutcome");
        }
    }

    private static FhirValidator r4CoreValidator() {
        ValidationSupportChain support = new ValidationSupportChain(
                new DefaultProfileValidationSupport(FHIR),
                new CommonCodeSystemsTerminologyService(FHIR),
                new InMemoryTerminologyServerValidationSupport(FHIR),
                new SnapshotGeneratingValidationSupport(FHIR));
        FhirValidator validator = FHIR.newValidator();
        validator.registerValidatorModule(new FhirInstanceValidator(support));
        return validator;
    }
}
