package org.carerelay.fhir.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.v251.message.MDM_T02;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

/** Vital signs carried by a Communication (as an ORU^R01 becomes one) in the outbound MDM^T02. */
class CommunicationToMdmObservationsTest {

    private static final String ORU = "MSH|^~\\&|MONITOR|STATION3|CARERELAY|KH|20240502100000||ORU^R01^ORU_R01|oru-1|P|2.5.1\r"
            + "PID|1||A123456780^^^KVNR^KVNR||Muster^Erika||19640812|F\r"
            + "OBR|1|||VITAL^Vitalwerte|||20240502095715+0200\r"
            + "OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|120|266016^MDC_DIM_MMHG^MDC|||||F\r"
            + "OBX|2|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|80|266016^MDC_DIM_MMHG^MDC|||||F\r"
            + "OBX|3|NM|8310-5^Körpertemperatur^LN||37,2|Cel|||||P|||20240502095900+0200\r"
            + "OBX|4|SN|2345-7^Glucose^LN||>^250|mg/dL|70-110||||F\r"
            + "OBX|5|ST|8601-7^EKG Befund^LN||Sinusrhythmus||||||F\r"
            + "OBX|6|NM|9279-1^Atemfrequenz^LN||||||||F\r";

    private static Communication communicationFor(List<Observation> observations) {
        Communication communication = new Communication();
        communication.setId("msg-0001");
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        int n = 0;
        for (Observation observation : observations) {
            observation.setId("obs" + (++n));
            communication.addContained(observation);
            communication.addPayload().setContent(new Reference("#obs" + n));
        }
        return communication;
    }

    @Test
    void containedVitalSigns_becomeCodedObxRows_withValuesUnitsStatusAndTimes() throws Exception {
        List<Observation> observations;
        try (HapiContext parsing = new DefaultHapiContext(new ca.uhn.hl7v2.parser.CanonicalModelClassFactory("2.5.1"))) {
            parsing.setValidationContext(ValidationContextFactory.noValidation());
            observations = OruToObservations.map(parsing.getPipeParser().parse(ORU));
        }
        Communication communication = communicationFor(observations);

        MDM_T02 mdm = CommunicationToMdm.map(new CommunicationToMdm.Input(communication, null, List.of(),
                "CareRelay", "CR", "KIS", "KH", "ctl-1", Instant.parse("2024-05-02T08:20:00Z")));
        String er7 = CommunicationToMdm.encode(mdm);
        try (HapiContext validating = new DefaultHapiContext()) {
            validating.setValidationContext(ValidationContextFactory.defaultValidation());
            validating.getPipeParser().parse(er7); // the result is valid v2.5.1
        }
        List<String[]> rows = Arrays.stream(er7.split("\r")).filter(s -> s.startsWith("OBX|"))
                .map(s -> s.split("\\|", -1)).toList();

        // systolic, diastolic, temperature, glucose, ECG text, respiratory rate without value;
        // the blood pressure panel repeats systolic and diastolic and adds no row
        assertThat(rows).extracting(r -> r[2]).containsExactly("NM", "NM", "NM", "SN", "ST", "");
        assertThat(rows.get(0)[3]).startsWith("150021^MDC_PRESS_BLD_NONINV_SYS^MDC^8480-6^").endsWith("^LN");
        assertThat(rows.get(0)[5]).isEqualTo("120");
        assertThat(rows.get(0)[6]).isEqualTo("mm[Hg]^mm[Hg]^UCUM");
        assertThat(rows.get(0)[14]).isEqualTo("20240502095715+0200");
        assertThat(rows.get(2)[3]).startsWith("8310-5^");
        assertThat(rows.get(2)[5]).isEqualTo("37.2");
        assertThat(rows.get(2)[6]).isEqualTo("Cel^Cel^UCUM");
        assertThat(rows.get(2)[11]).isEqualTo("P");
        assertThat(rows.get(2)[14]).isEqualTo("20240502095900+0200");
        assertThat(rows.get(3)[5]).isEqualTo(">^250");
        assertThat(rows.get(3)[7]).isEqualTo("70-110");
        assertThat(rows.get(4)[5]).isEqualTo("Sinusrhythmus");
        assertThat(rows.get(5)[5]).isEmpty();
        assertThat(rows.get(5)[11]).isEqualTo("X");
        assertThat(new Terser(mdm).get("/OBSERVATION(0)/OBX-4")).isEqualTo("1");
    }

    @Test
    void aPanelAlone_givesOneRowPerComponent() throws Exception {
        Observation panel = new Observation();
        panel.setStatus(Observation.ObservationStatus.FINAL);
        panel.getCode().addCoding().setSystem("http://loinc.org").setCode("85354-9");
        panel.addComponent().getCode().addCoding().setSystem("http://loinc.org").setCode("8480-6");
        panel.getComponent().get(0).setValue(new org.hl7.fhir.r4.model.Quantity().setValue(118)
                .setUnit("mm[Hg]").setSystem(OruToObservations.UCUM_SYSTEM).setCode("mm[Hg]"));
        panel.addComponent().getCode().addCoding().setSystem("http://loinc.org").setCode("8462-4");
        panel.getComponent().get(1).setValue(new org.hl7.fhir.r4.model.Quantity().setValue(76)
                .setUnit("mm[Hg]").setSystem(OruToObservations.UCUM_SYSTEM).setCode("mm[Hg]"));

        String er7 = CommunicationToMdm.encode(CommunicationToMdm.map(new CommunicationToMdm.Input(
                communicationFor(List.of(panel)), null, List.of(), "CareRelay", "CR", "KIS", "KH", "ctl-2", Instant.now())));

        List<String[]> rows = Arrays.stream(er7.split("\r")).filter(s -> s.startsWith("OBX|"))
                .map(s -> s.split("\\|", -1)).toList();
        assertThat(rows).extracting(r -> r[3] + "=" + r[5]).containsExactly("8480-6^^LN=118", "8462-4^^LN=76");
        assertThat(rows).extracting(r -> r[4]).containsOnly("1");
    }
}
