package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.util.Terser;
import java.util.List;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.AdtToPatient;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.fhir.hl7.MdmToCommunication;
import org.carerelay.fhir.hl7.OruToObservations;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Component;

/**
 * One branch per message type of HL7v2 inbound: maps the message to what is stored when it is
 * accepted ({@link Mapped}), without storing anything. ADT^A01/A04/A05/A08/A28/A31 → a Patient;
 * MDM^T01/T02 → a Communication with the document; ORU^R01 → a Communication with the results as
 * contained Observations and a summary. MDM and ORU go to the organisation named by MSH-6 (else
 * MSH-5), with the patient of their PID if they have one. Everything else is refused
 * ({@link Hl7Refusal}); mapping failures are thrown as they come (the route maps them to NAKs).
 */
@Component
public class Hl7Mappings {

    static final List<String> ADT_EVENTS = List.of("A01", "A04", "A05", "A08", "A28", "A31");

    /**
     * What an accepted message stores: the patient (ADT, or the PID of an MDM/ORU) and, for MDM and
     * ORU, the Communication to its recipient (without subject: set to the stored patient).
     */
    public record Mapped(Patient patient, Communication communication) {
    }

    private final Facilities facilities;
    private final AdtToPatient.AssigningAuthorities authorities = AdtToPatient.AssigningAuthorities.defaults();

    public Hl7Mappings(Facilities facilities) {
        this.facilities = facilities;
    }

    public void adt(InboundHl7 in) {
        Hl7Inbound.Parsed parsed = in.parsed();
        if ("A40".equals(parsed.triggerEvent())) {
            throw new Hl7Refusal(AcknowledgmentCode.AR, ErrorCode.NOT_SUPPORTED, "201",
                    "ADT^A40 (merge) is not supported; merge the patients in the sending system and send ADT^A08.");
        }
        requireEvent(parsed, ADT_EVENTS);
        in.mapped(new Mapped(AdtToPatient.map(parsed.message(), authorities), null));
    }

    public void mdm(InboundHl7 in) {
        Hl7Inbound.Parsed parsed = in.parsed();
        requireEvent(parsed, List.of("T01", "T02"));
        MdmToCommunication.Result document = MdmToCommunication.map(parsed.message());
        in.mapped(toRecipient(parsed, MdmToCommunication.toCommunication(document)));
    }

    public void oru(InboundHl7 in) {
        Hl7Inbound.Parsed parsed = in.parsed();
        requireEvent(parsed, List.of("R01"));
        List<Observation> observations = OruToObservations.map(parsed.message());
        if (observations.isEmpty()) {
            throw new Hl7Refusal(AcknowledgmentCode.AE, ErrorCode.INVALID_RESOURCE, "101", "The ORU^R01 carries no OBX result.");
        }
        Communication communication = new Communication();
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        StringBuilder summary = new StringBuilder("Messwerte (" + observations.size() + "):");
        int n = 0;
        for (Observation observation : observations) {
            String localId = "obs" + (++n);
            observation.setId(localId);
            communication.addContained(observation);
            communication.addPayload().setContent(new Reference("#" + localId));
            summary.append("\n").append(describe(observation));
        }
        communication.getPayload().add(0, new Communication.CommunicationPayloadComponent(new StringType(summary.toString())));
        in.mapped(toRecipient(parsed, communication));
    }

    /** Any other message type. */
    public void unsupported(InboundHl7 in) {
        throw unsupported(in.parsed());
    }

    private static void requireEvent(Hl7Inbound.Parsed parsed, List<String> events) {
        if (!events.contains(parsed.triggerEvent())) {
            throw unsupported(parsed);
        }
    }

    private static Hl7Refusal unsupported(Hl7Inbound.Parsed parsed) {
        return new Hl7Refusal(AcknowledgmentCode.AR, ErrorCode.NOT_SUPPORTED, "200",
                "Message type " + parsed.messageType() + "^" + parsed.triggerEvent() + " is not supported.");
    }

    private Mapped toRecipient(Hl7Inbound.Parsed parsed, Communication communication) {
        Optional<Organization> recipient = facilities.find(parsed.receivingFacility())
                .or(() -> facilities.find(parsed.receivingApplication()));
        if (recipient.isEmpty()) {
            throw new Hl7Refusal(AcknowledgmentCode.AE, ErrorCode.UNKNOWN_RECIPIENT, "204",
                    "Unknown recipient: MSH-6 '" + Hl7Refusals.safe(parsed.receivingFacility()) + "' is not in the directory.");
        }
        communication.addRecipient(new Reference("Organization/" + recipient.get().getIdElement().getIdPart()));
        Patient patient = hasPid(parsed.message()) ? AdtToPatient.map(parsed.message(), authorities) : null;
        return new Mapped(patient, communication);
    }

    private static boolean hasPid(Message message) {
        try {
            Terser terser = new Terser(message);
            String value = terser.get("/.PID-3-1");
            String name = terser.get("/.PID-5-1");
            return (value != null && !value.isBlank()) || (name != null && !name.isBlank());
        } catch (HL7Exception e) {
            return false;
        }
    }

    private static String describe(Observation observation) {
        String name = observation.getCode().hasText() ? observation.getCode().getText()
                : observation.getCode().getCodingFirstRep().hasDisplay() ? observation.getCode().getCodingFirstRep().getDisplay()
                : observation.getCode().getCodingFirstRep().getCode();
        String value = observation.hasValueQuantity()
                ? observation.getValueQuantity().getValue().toPlainString() + " " + (observation.getValueQuantity().hasUnit()
                        ? observation.getValueQuantity().getUnit() : observation.getValueQuantity().getCode())
                : observation.hasValue() ? observation.getValue().primitiveValue() : "";
        return "- " + name + ": " + (value == null ? "" : value.trim());
    }
}
