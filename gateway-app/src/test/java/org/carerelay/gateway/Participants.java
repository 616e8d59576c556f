package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ca.uhn.fhir.rest.client.api.IGenericClient;
import jakarta.mail.BodyPart;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.text.PDFTextStripper;
import org.carerelay.fhir.OrganizationType;
import org.carerelay.fhir.Systems;
import org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.StringType;

/** Test fixtures: directory entries and the registration dance, through the public API only. */
public final class Participants {

    private static final Pattern CODE = Pattern.compile("\\b([A-Z2-9]{5}-[A-Z2-9]{5})\\b");

    private Participants() {
    }

    public static Organization newOrganization(String name, String fax, String email) {
        Organization org = new Organization();
        org.setActive(true);
        org.setName(name);
        org.addType(OrganizationType.PHYSICIAN_PRACTICE.toCodeableConcept());
        org.addAddress().addLine("Teststraße 1").setPostalCode("10115").setCity("Berlin").setCountry("DE");
        if (fax != null) {
            org.addTelecom().setSystem(ContactPointSystem.FAX).setValue(fax);
        }
        if (email != null) {
            org.addTelecom().setSystem(ContactPointSystem.EMAIL).setValue(email);
        }
        return org;
    }

    public static String create(IGenericClient admin, Organization org) {
        return admin.create().resource(org).execute().getId().getIdPart();
    }

    /**
     * Gives the organisation the HL7 facility alias (MSH-4/MSH-6) by which HL7v2 senders name it,
     * and puts 127.0.0.1 — where the tests' MLLP clients connect from — on its HL7 allow-list, as
     * the operator does for a hospital's interface engine.
     */
    public static void addHl7Alias(IGenericClient admin, String orgId, String alias) {
        addHl7Alias(admin, orgId, alias, "127.0.0.1");
    }

    /** The HL7 facility alias and the given HL7 allow-list entries (addresses or CIDR ranges). */
    public static void addHl7Alias(IGenericClient admin, String orgId, String alias, String... allowedAddresses) {
        Organization org = admin.read().resource(Organization.class).withId(orgId).execute();
        org.addIdentifier().setSystem(Systems.HL7_FACILITY).setValue(alias);
        for (String address : allowedAddresses) {
            org.addExtension(Systems.EXT_HL7_ALLOWED_ADDRESS, new StringType(address));
        }
        admin.update().resource(org).execute();
    }

    /**
     * Registers an active system endpoint ({@code hl7-fhir-rest}, {@code hl7v2-mllp}, ...) managed by
     * the organisation; {@code header} (e.g. {@code Authorization: Bearer ...}) may be null.
     */
    public static void addEndpoint(IGenericClient admin, String orgId, String connectionType, String address, String header) {
        Endpoint endpoint = new Endpoint();
        endpoint.setStatus(Endpoint.EndpointStatus.ACTIVE);
        endpoint.getConnectionType().setSystem(Systems.ENDPOINT_CONNECTION_TYPE).setCode(connectionType);
        endpoint.addPayloadType().addCoding().setSystem(Systems.ENDPOINT_PAYLOAD_TYPE).setCode("any");
        endpoint.setAddress(address);
        if (header != null) {
            endpoint.addHeader(header);
        }
        endpoint.getManagingOrganization().setReference("Organization/" + orgId);
        admin.create().resource(endpoint).execute();
    }

    /** Step 1; {@code email} is ignored by the gateway (accepted for older clients), may be null. */
    public static Parameters requestCode(IGenericClient anonymous, String orgId, String email) {
        Parameters in = new Parameters();
        if (email != null) {
            in.addParameter("email", new StringType(email));
        }
        return anonymous.operation().onInstance("Organization/" + orgId).named("$register")
                .withParameters(in).execute();
    }

    /** Step 2 with the contact address {@code kontakt@<orgId>.example.org}. */
    public static Parameters confirm(IGenericClient anonymous, String orgId, String code) {
        return confirm(anonymous, orgId, code, "kontakt@" + orgId + ".example.org");
    }

    /** Step 2: the code from the letter and the contact address for notifications. */
    public static Parameters confirm(IGenericClient anonymous, String orgId, String code, String email) {
        Parameters in = new Parameters();
        in.addParameter("code", new StringType(code));
        if (email != null) {
            in.addParameter("email", new StringType(email));
        }
        return anonymous.operation().onInstance("Organization/" + orgId).named("$register")
                .withParameters(in).execute();
    }

    /** Waits for the n-th mail to {@code address} and returns the one-time code in it (body or PDF). */
    public static String awaitCode(String address, int expectedMails) {
        await().atMost(Duration.ofSeconds(30)).until(() -> GatewayIntegrationTest.mailsTo(address).size() >= expectedMails);
        List<MimeMessage> mails = GatewayIntegrationTest.mailsTo(address);
        return codeIn(mails.get(expectedMails - 1));
    }

    public static String codeIn(MimeMessage mail) {
        try {
            StringBuilder text = new StringBuilder();
            collectText(mail.getContent(), text);
            Matcher m = CODE.matcher(text);
            assertThat(m.find()).as("a one-time code in the mail").isTrue();
            return m.group(1);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    public static String allText(MimeMessage mail) {
        try {
            StringBuilder text = new StringBuilder();
            collectText(mail.getContent(), text);
            return text.toString();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static void collectText(Object content, StringBuilder out) throws Exception {
        if (content instanceof String s) {
            out.append(s).append('\n');
        } else if (content instanceof Multipart mp) {
            for (int i = 0; i < mp.getCount(); i++) {
                BodyPart part = mp.getBodyPart(i);
                if (part.isMimeType("application/pdf")) {
                    try (InputStream in = part.getInputStream(); PDDocument pdf = Loader.loadPDF(in.readAllBytes())) {
                        out.append(new PDFTextStripper().getText(pdf)).append('\n');
                    }
                } else {
                    collectText(part.getContent(), out);
                }
            }
        }
    }

    /** Creates an organisation with a fax number, registers it through the fax letter, returns its token. */
    public static Registered registerNew(GatewayIntegrationTest test, String namePrefix) {
        String digits = "4930" + (long) (Math.random() * 1_000_000_000L);
        String fax = "+" + digits;
        String orgId = create(test.admin(), newOrganization(GatewayIntegrationTest.unique(namePrefix), fax, null));
        String faxMailbox = digits + "@" + GatewayIntegrationTest.FAX_DOMAIN;
        int before = GatewayIntegrationTest.mailsTo(faxMailbox).size();
        requestCode(test.anonymous(), orgId, "kontakt@" + orgId + ".example.org");
        String code = awaitCode(faxMailbox, before + 1);
        Parameters result = confirm(test.anonymous(), orgId, code);
        return new Registered(orgId, result.getParameter("token").getValue().primitiveValue(), faxMailbox);
    }

    public record Registered(String organizationId, String token, String faxMailbox) {
    }
}
