package org.carerelay.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

class ParsedResourcesTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();

    private final ParsedResources cache = new ParsedResources();
    private final AtomicInteger parses = new AtomicInteger();

    private <T extends Resource> Function<String, T> parser(Class<T> type) {
        IParser json = FHIR.newJsonParser();
        return text -> {
            parses.incrementAndGet();
            return json.parseResource(type, text);
        };
    }

    private static String stored(Organization org, String id, String version) {
        org.setId("Organization/" + id + "/_history/" + version);
        org.getMeta().setVersionId(version);
        return FHIR.newJsonParser().encodeResourceToString(org);
    }

    private static Organization entry() {
        Organization org = new Organization();
        org.setActive(true).setName("Pflegedienst Sonnenschein \"Süd\"");
        org.addIdentifier().setSystem("http://fhir.de/sid/arge-ik/iknr").setValue("260326822");
        org.addTelecom().setSystem(ContactPoint.ContactPointSystem.FAX).setValue("+49 30 1234567");
        org.addEndpoint(new Reference("Endpoint/e1"));
        org.addExtension("https://fhir.carerelay.org/StructureDefinition/hl7-alias", new StringType("PFLEGE_SW"));
        org.addExtension("https://fhir.carerelay.org/StructureDefinition/encryption-certificate",
                new Attachment().setContentType("application/pkix-cert").setData(new byte[] {1, 2, 3, 4}));
        return org;
    }

    @Test
    void aRowReadAgain_isNotParsedAgain_andEachReaderGetsAnEqualCopyOfItsOwn() {
        String json = stored(entry(), "o1", "3");
        Organization first = cache.parse(Organization.class, "Organization", "o1", json, parser(Organization.class));
        Organization second = cache.parse(Organization.class, "Organization", "o1", json, parser(Organization.class));

        assertThat(parses).hasValue(1);
        assertThat(second).isNotSameAs(first);
        assertThat(second.equalsDeep(first)).isTrue();
        assertThat(second.getIdElement().getValue()).isEqualTo(first.getIdElement().getValue()).isEqualTo("Organization/o1/_history/3");
        assertThat(FHIR.newJsonParser().encodeResourceToString(second)).isEqualTo(FHIR.newJsonParser().encodeResourceToString(first));

        // what a reader changes stays with it
        second.setName("geändert");
        second.getTelecomFirstRep().setValue("0");
        Organization third = cache.parse(Organization.class, "Organization", "o1", json, parser(Organization.class));
        assertThat(third.getName()).isEqualTo("Pflegedienst Sonnenschein \"Süd\"");
        assertThat(third.getTelecomFirstRep().getValue()).isEqualTo("+49 30 1234567");
        assertThat(parses).hasValue(1);
    }

    @Test
    void aChangedRow_isParsedAgain() {
        Organization org = entry();
        cache.parse(Organization.class, "Organization", "o2", stored(org, "o2", "1"), parser(Organization.class));
        org.setActive(false);
        Organization changed = cache.parse(Organization.class, "Organization", "o2", stored(org, "o2", "2"), parser(Organization.class));

        assertThat(parses).hasValue(2);
        assertThat(changed.getActive()).isFalse();
        assertThat(changed.getMeta().getVersionId()).isEqualTo("2");
    }

    @Test
    void anEntryWithIdsOrExtensionsOnItsValues_isParsedEveryTime() {
        Organization org = entry();
        // HAPI's copy of a code keeps its extensions, not its id
        org.getTelecomFirstRep().getSystemElement().setId("fax-system")
                .addExtension("https://fhir.carerelay.org/StructureDefinition/test", new StringType("x"));
        String json = stored(org, "o3", "1");
        assertThat(json).contains("\"_system\"");
        Organization first = cache.parse(Organization.class, "Organization", "o3", json, parser(Organization.class));
        Organization second = cache.parse(Organization.class, "Organization", "o3", json, parser(Organization.class));

        assertThat(parses).hasValue(2);
        assertThat(cache.size()).isZero();
        assertThat(second.getTelecomFirstRep().getSystemElement().getId()).isEqualTo("fax-system");
        assertThat(FHIR.newJsonParser().encodeResourceToString(first)).isEqualTo(json);
    }

    @Test
    void otherTypes_areParsedEveryTime_andNotKept() {
        String json = FHIR.newJsonParser().encodeResourceToString(new Patient().setActive(true).setId("p1"));
        cache.parse(Patient.class, "Patient", "p1", json, parser(Patient.class));
        cache.parse(Patient.class, "Patient", "p1", json, parser(Patient.class));
        assertThat(parses).hasValue(2);
        assertThat(cache.size()).isZero();
    }

    @Test
    void atMostMaxEntriesAreKept() {
        for (int i = 0; i < ParsedResources.MAX + 50; i++) {
            cache.parse(Organization.class, "Organization", "o" + i, stored(new Organization().setName("O" + i), "o" + i, "1"),
                    parser(Organization.class));
        }
        assertThat(cache.size()).isEqualTo(ParsedResources.MAX);
    }
}
