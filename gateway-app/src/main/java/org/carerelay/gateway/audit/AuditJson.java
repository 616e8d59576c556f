package org.carerelay.gateway.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Date;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAgentNetworkType;
import org.hl7.fhir.r4.model.InstantType;

/**
 * The FHIR JSON of the AuditEvent an audit entry stands for, written field by field: the very text
 * HAPI's JSON parser writes for that AuditEvent (the elements in the order of their definitions,
 * empty ones left out; {@code AuditJsonTest} holds it to that), at a small part of the cost of
 * building the resource and encoding it (9% of a message create's CPU in the request, 5% of an HL7
 * message's).
 */
final class AuditJson {

    private static final JsonFactory JSON = new JsonFactory();

    private AuditJson() {
    }

    static String write(String id, Instant recorded, AuditService.Entry entry) {
        StringWriter out = new StringWriter(640);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("resourceType", "AuditEvent");
            string(g, "id", id);
            g.writeObjectFieldStart("type");
            coding(g, Systems.AUDIT_EVENT_TYPE, "rest", "RESTful Operation");
            g.writeEndObject();
            if (entry.subtype() != null) {
                g.writeArrayFieldStart("subtype");
                g.writeStartObject();
                coding(g, Systems.AUDIT_SUBTYPE, entry.subtype(), null);
                g.writeEndObject();
                g.writeEndArray();
            }
            if (entry.action() != null) {
                g.writeStringField("action", entry.action().toCode());
            }
            g.writeStringField("recorded", new InstantType(Date.from(recorded)).getValueAsString());
            if (entry.outcome() != null) {
                g.writeStringField("outcome", entry.outcome().toCode());
            }
            string(g, "outcomeDesc", entry.description());

            g.writeArrayFieldStart("agent");
            g.writeStartObject();
            if (present(entry.agentWho())) {
                g.writeObjectFieldStart("who");
                g.writeStringField(entry.agentWho().startsWith("Organization/") ? "reference" : "display", entry.agentWho());
                g.writeEndObject();
            }
            g.writeBooleanField("requestor", true);
            if (entry.clientAddress() != null) {
                g.writeObjectFieldStart("network");
                string(g, "address", entry.clientAddress());
                g.writeStringField("type", AuditEventAgentNetworkType._2.toCode());
                g.writeEndObject();
            }
            g.writeEndObject();
            if (entry.person() != null) {
                // the person of the organisation who acted, signed in to the web inbox
                g.writeStartObject();
                g.writeObjectFieldStart("type");
                g.writeArrayFieldStart("coding");
                g.writeStartObject();
                coding(g, "http://terminology.hl7.org/CodeSystem/extra-security-role-type", "humanuser", "human user");
                g.writeEndObject();
                g.writeEndArray();
                g.writeEndObject();
                g.writeObjectFieldStart("who");
                g.writeObjectFieldStart("identifier");
                g.writeStringField("system", AuditService.WEB_USER_SYSTEM);
                string(g, "value", entry.person().userId());
                g.writeEndObject();
                string(g, "display", entry.person().name());
                g.writeEndObject();
                g.writeBooleanField("requestor", false);
                g.writeEndObject();
            }
            g.writeEndArray();

            g.writeObjectFieldStart("source");
            g.writeStringField("site", "carerelay");
            g.writeObjectFieldStart("observer");
            g.writeStringField("display", AuditService.OBSERVER);
            g.writeEndObject();
            g.writeEndObject();
            if (present(entry.entityWhat())) {
                g.writeArrayFieldStart("entity");
                g.writeStartObject();
                g.writeObjectFieldStart("what");
                g.writeStringField("reference", entry.entityWhat());
                g.writeEndObject();
                g.writeEndObject();
                g.writeEndArray();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    private static void coding(JsonGenerator g, String system, String code, String display) throws IOException {
        g.writeStringField("system", system);
        string(g, "code", code);
        string(g, "display", display);
    }

    private static void string(JsonGenerator g, String field, String value) throws IOException {
        if (present(value)) {
            g.writeStringField(field, value);
        }
    }

    /** HAPI leaves out a value that is empty or whitespace only (and an element left with nothing in it). */
    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }
}
