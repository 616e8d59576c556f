package org.carerelay.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.security.Caller;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

/**
 * The audit trail's JSON is what HAPI writes for the AuditEvent an entry stands for, to the
 * character, for every combination of the entry's optional parts (and texts that need escaping).
 */
class AuditJsonTest {

    /** As the gateway configures its context: the audit of a vread keeps the version it names. */
    private static final FhirContext FHIR = FhirContext.forR4();

    static {
        FHIR.getParserOptions().setDontStripVersionsFromReferencesAtPaths("AuditEvent.entity.what");
    }

    @Test
    void everyShapeOfEntry_isWrittenAsHapiWritesItsAuditEvent() {
        List<AuditService.Entry> entries = new ArrayList<>();
        for (String subtype : new String[] {null, "", " ", "communication-create"}) {
            for (AuditEventAction action : new AuditEventAction[] {null, AuditEventAction.C, AuditEventAction.R, AuditEventAction.E}) {
                for (AuditEventOutcome outcome : new AuditEventOutcome[] {AuditEventOutcome._0, AuditEventOutcome._4, AuditEventOutcome._8}) {
                    for (String who : new String[] {null, "", " \t", "Organization/3d5e7f90", "operator", "anonymous", "Müller \"Admin\" \\ </script>"}) {
                        for (String address : new String[] {null, "", " ", "10.1.2.3", "2001:db8::1"}) {
                            entries.add(new AuditService.Entry(subtype, action, outcome, who, address, null, null));
                        }
                    }
                }
            }
        }
        for (String entity : new String[] {null, "", " ", "Patient/7f1d", "Communication/0b8c/_history/3", "Organization/x?y=1&z"}) {
            for (String description : new String[] {null, "", "\n ", "rate limited", "Ungültiges Token auf /fhir/Patient\n\t\u0001"}) {
                for (Caller.Person person : new Caller.Person[] {null, new Caller.Person("u-1", "Dr. Jürgen Müßig"),
                        new Caller.Person(null, "nur Name"), new Caller.Person("u-2", null), new Caller.Person(null, null),
                        new Caller.Person("", ""), new Caller.Person(" ", " ")}) {
                    entries.add(new AuditService.Entry("consent-revoked", AuditEventAction.U, AuditEventOutcome._0,
                            "Organization/9a8b", "127.0.0.1", entity, description, person));
                }
            }
        }
        Instant[] times = {Instant.parse("2026-12-05T12:00:00Z"), Instant.parse("2026-01-31T23:59:59.999Z"),
                Instant.parse("2026-06-15T08:30:15.001Z")};
        for (int i = 0; i < entries.size(); i++) {
            String id = "0b8c3a3e-6f55-4b5e-8d1f-" + String.format("%012d", i);
            Instant at = times[i % times.length];
            AuditService.Entry entry = entries.get(i);
            assertThat(AuditJson.write(id, at, entry)).as("%s", entry).isEqualTo(hapi(id, at, entry));
        }
        assertThat(entries).hasSizeGreaterThan(1_500);
    }

    @Test
    void theJson_readsBackAsTheAuditEvent() {
        AuditService.Entry entry = new AuditService.Entry("patient-read", AuditEventAction.R, AuditEventOutcome._0,
                "Organization/9a8b", "10.0.0.7", "Patient/7f1d", null, new Caller.Person("u-1", "Dr. Jürgen Müßig"));
        AuditEvent event = FHIR.newJsonParser().parseResource(AuditEvent.class,
                AuditJson.write("a1", Instant.parse("2026-12-05T12:00:00Z"), entry));
        assertThat(event.getAgent()).hasSize(2);
        assertThat(event.getAgentFirstRep().getWho().getReference()).isEqualTo("Organization/9a8b");
        assertThat(event.getAgent().get(1).getWho().getIdentifier().getValue()).isEqualTo("u-1");
        assertThat(event.getEntityFirstRep().getWhat().getReference()).isEqualTo("Patient/7f1d");
        assertThat(event.getRecorded()).isEqualTo(Date.from(Instant.parse("2026-12-05T12:00:00Z")));
    }

    /** How the audit trail was written before: the AuditEvent, encoded by HAPI. */
    private static String hapi(String id, Instant now, AuditService.Entry entry) {
        AuditEvent event = new AuditEvent();
        event.setId(id);
        event.setType(new Coding(Systems.AUDIT_EVENT_TYPE, "rest", "RESTful Operation"));
        if (entry.subtype() != null) {
            event.addSubtype(new Coding(Systems.AUDIT_SUBTYPE, entry.subtype(), null));
        }
        event.setAction(entry.action());
        event.setRecorded(Date.from(now));
        event.setOutcome(entry.outcome());
        if (entry.description() != null) {
            event.setOutcomeDesc(entry.description());
        }
        AuditEvent.AuditEventAgentComponent agent = event.addAgent().setRequestor(true);
        if (entry.agentWho() != null) {
            if (entry.agentWho().startsWith("Organization/")) {
                agent.setWho(new Reference(entry.agentWho()));
            } else {
                agent.setWho(new Reference().setDisplay(entry.agentWho()));
            }
        }
        if (entry.clientAddress() != null) {
            agent.getNetwork().setAddress(entry.clientAddress())
                    .setType(AuditEvent.AuditEventAgentNetworkType._2);
        }
        if (entry.person() != null) {
            event.addAgent().setRequestor(false)
                    .setType(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/extra-security-role-type",
                            "humanuser", "human user")))
                    .setWho(new Reference().setDisplay(entry.person().name())
                            .setIdentifier(new Identifier().setSystem(AuditService.WEB_USER_SYSTEM).setValue(entry.person().userId())));
        }
        event.getSource().setObserver(new Reference().setDisplay(AuditService.OBSERVER)).setSite("carerelay");
        if (entry.entityWhat() != null) {
            event.addEntity().setWhat(new Reference(entry.entityWhat()));
        }
        return FHIR.newJsonParser().encodeResourceToString(event);
    }
}
