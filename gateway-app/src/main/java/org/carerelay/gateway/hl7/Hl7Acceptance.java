package org.carerelay.gateway.hl7;

import java.sql.Timestamp;
import java.time.Instant;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.conversation.MessageService;
import org.carerelay.gateway.patient.PatientService;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Accepts an admitted, mapped HL7v2 message: the one transaction in which it is stored, through
 * the same services as the FHIR API (so the same consent gate and pipeline apply), together with
 * the ACK a repeat of its MSH-10 will get and its audit entry. The AA is sent only after that
 * transaction committed.
 */
@Component
public class Hl7Acceptance {

    private final PatientService patients;
    private final MessageService messages;
    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final AuditService audit;
    private final Hl7Acks acks;

    public Hl7Acceptance(PatientService patients, MessageService messages, JdbcClient jdbc, TransactionTemplate tx,
            AuditService audit, Hl7Acks acks) {
        this.patients = patients;
        this.messages = messages;
        this.jdbc = jdbc;
        this.tx = tx;
        this.audit = audit;
        this.acks = acks;
    }

    public void accept(InboundHl7 in) {
        Hl7Inbound.Parsed parsed = in.parsed();
        String ack = tx.execute(status -> {
            Hl7Outcome outcome = Hl7Outcome.accepted(store(in.mapped(), in.caller(), in.remoteAddress()));
            String stored = acks.toStore(parsed, in.charset(), outcome);
            jdbc.sql("insert into hl7_inbound (sender_org, control_id, message_type, received_at, ack, charset) "
                    + "values (?, ?, ?, ?, ?, ?) on conflict do nothing")
                    .params(in.caller().organizationId(), parsed.controlId(), parsed.messageType() + "^" + parsed.triggerEvent(),
                            Timestamp.from(Instant.now()), stored, in.charset().name()).update();
            // in the same transaction: the trail says AA exactly for what was stored, at no commit of its own
            audit.recordWithin(new AuditService.Entry("hl7-inbound", AuditEventAction.C, AuditEventOutcome._0,
                    in.caller().auditName(), in.remoteAddress(), null, parsed.messageType() + "^" + parsed.triggerEvent() + " AA"));
            return stored;
        });
        in.acceptedAck(ack);
    }

    /** Stores the patient and the message; returns the reference the ACK names (MSA-3). */
    private String store(Hl7Mappings.Mapped mapped, Caller caller, String remoteAddress) {
        Patient patient = mapped.patient() == null ? null : patients.upsertFromHl7(mapped.patient(), caller, remoteAddress);
        Communication communication = mapped.communication();
        if (communication == null) {
            return "Patient/" + patient.getIdElement().getIdPart();
        }
        if (patient != null) {
            Reference subject = new Reference("Patient/" + patient.getIdElement().getIdPart());
            communication.setSubject(subject);
            communication.getContained().stream().filter(r -> r instanceof Observation)
                    .forEach(r -> ((Observation) r).setSubject(new Reference("Patient/" + patient.getIdElement().getIdPart())));
        }
        return "Communication/" + messages.accept(communication, caller, remoteAddress).getId().getIdPart();
    }
}
