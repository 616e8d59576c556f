package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.PreferReturnEnum;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.MethodNotAllowedException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.RawHttp;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationDefinition;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

/**
 * FHIR REST protocol details as clients from other ecosystems use them: the answers to creates
 * and updates ({@code Prefer}), characters in queries, errors of the web container, operations
 * called with an empty body or asking for FHIR, and interactions the gateway does not offer.
 */
class FhirProtocolIT extends GatewayIntegrationTest {

    private static final String PDF_HEAD = "%PDF-1.4\n";

    // --- creates and updates: the answer body and Prefer

    @Test
    void fhirBinaryCreate_returnsTheCreatedBinaryWithoutData_likeTheRawUpload() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Binary-Sender");
        Binary binary = new Binary();
        binary.setContentType("application/pdf");
        binary.setData((PDF_HEAD + "1 0 obj\n").getBytes(StandardCharsets.US_ASCII));

        MethodOutcome outcome = client(sender.token()).create().resource(binary).execute();

        assertThat(outcome.getCreated()).isTrue();
        assertThat(outcome.getResource()).as("the created Binary in the body").isInstanceOf(Binary.class);
        Binary created = (Binary) outcome.getResource();
        assertThat(created.getIdElement().getIdPart()).isEqualTo(outcome.getId().getIdPart());
        assertThat(created.getContentType()).isEqualTo("application/pdf");
        assertThat(created.hasData()).as("no data in the answer").isFalse();

        // the body itself, as every client sees it
        HttpResponse<String> response = http("POST", "/fhir/Binary", sender.token(), "application/fhir+json",
                FHIR.newJsonParser().encodeResourceToString(binary).getBytes(StandardCharsets.UTF_8));
        assertThat(response.statusCode()).isEqualTo(201);
        Binary answered = FHIR.newJsonParser().parseResource(Binary.class, response.body());
        assertThat(answered.getContentType()).isEqualTo("application/pdf");
        assertThat(answered.getMeta().getVersionId()).isEqualTo("1");
        assertThat(answered.hasData()).isFalse();
    }

    @Test
    void preferReturn_minimalRepresentationAndOperationOutcome_onCreateAndUpdate() {
        IGenericClient admin = admin();
        Organization org = Participants.newOrganization(unique("Prefer"), null, "prefer@example.org");

        MethodOutcome minimal = admin.create().resource(org).prefer(PreferReturnEnum.MINIMAL).execute();
        assertThat(minimal.getId().getIdPart()).isNotBlank();
        assertThat(minimal.getResource()).as("no body for return=minimal").isNull();
        String id = minimal.getId().getIdPart();

        MethodOutcome created = admin.create().resource(Participants.newOrganization(unique("Prefer"), null, null))
                .prefer(PreferReturnEnum.OPERATION_OUTCOME).execute();
        assertThat(created.getOperationOutcome()).as("an OperationOutcome for return=OperationOutcome").isNotNull();
        assertThat(((OperationOutcome) created.getOperationOutcome()).getIssueFirstRep().getSeverity())
                .isEqualTo(OperationOutcome.IssueSeverity.INFORMATION);

        org.setId(id);
        org.setName(org.getName() + " (neu)");
        MethodOutcome representation = admin.update().resource(org).prefer(PreferReturnEnum.REPRESENTATION).execute();
        assertThat(((Organization) representation.getResource()).getName()).endsWith("(neu)");
        MethodOutcome updateMinimal = admin.update().resource(org).prefer(PreferReturnEnum.MINIMAL).execute();
        assertThat(updateMinimal.getResource()).isNull();
        MethodOutcome updateOutcome = admin.update().resource(org).prefer(PreferReturnEnum.OPERATION_OUTCOME).execute();
        assertThat(((OperationOutcome) updateOutcome.getOperationOutcome()).getIssueFirstRep().getDiagnostics())
                .startsWith("Updated Organization");
    }

    @Test
    void preferReturn_onBinaryCreates_rawAndFhir() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Binary-Prefer");
        byte[] pdf = (PDF_HEAD + "2 0 obj\n").getBytes(StandardCharsets.US_ASCII);

        RawHttp.Response minimal = RawHttp.send("127.0.0.1", port, "POST", "/fhir/Binary",
                Map.of("Authorization", "Bearer " + sender.token(), "Content-Type", "application/pdf",
                        "Prefer", "return=minimal"), pdf);
        assertThat(minimal.status()).isEqualTo(201);
        assertThat(minimal.header("Location")).contains("/Binary/");
        assertThat(minimal.body()).isEmpty();

        RawHttp.Response outcome = RawHttp.send("127.0.0.1", port, "POST", "/fhir/Binary",
                Map.of("Authorization", "Bearer " + sender.token(), "Content-Type", "application/pdf",
                        "Prefer", "return=OperationOutcome"), pdf);
        assertThat(outcome.status()).isEqualTo(201);
        assertThat(outcome.body()).contains("\"resourceType\":\"OperationOutcome\"").contains("Created Binary/");

        Binary binary = new Binary();
        binary.setContentType("application/pdf");
        binary.setData(pdf);
        MethodOutcome fhirMinimal = client(sender.token()).create().resource(binary).prefer(PreferReturnEnum.MINIMAL).execute();
        assertThat(fhirMinimal.getId().getIdPart()).isNotBlank();
        assertThat(fhirMinimal.getResource()).isNull();
    }

    // --- the query string and errors of the web container

    @Test
    void rawPipeInTheQuery_likeCurlSendsIt_isAccepted() throws Exception {
        String alias = unique("PIPE").toUpperCase(java.util.Locale.ROOT);
        String orgId = Participants.create(admin(), Participants.newOrganization(unique("Pipe"), null, "pipe@example.org"));
        Participants.addHl7Alias(admin(), orgId, alias);

        RawHttp.Response response = RawHttp.send("127.0.0.1", port, "GET",
                "/fhir/Organization?identifier=" + Systems.HL7_FACILITY + "|" + alias,
                Map.of("Authorization", "Bearer " + ADMIN_TOKEN), null);

        assertThat(response.status()).isEqualTo(200);
        Bundle bundle = FHIR.newJsonParser().parseResource(Bundle.class, dechunk(response));
        assertThat(bundle.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly(orgId);
        // and the other characters FHIR clients leave unencoded
        RawHttp.Response others = RawHttp.send("127.0.0.1", port, "GET", "/fhir/Organization?name=a{b}[c]^`\"d\\",
                Map.of("Authorization", "Bearer " + ADMIN_TOKEN), null);
        assertThat(others.status()).isEqualTo(200);
    }

    @Test
    void errorsOfTheWebContainerItself_areOperationOutcomesWithACode_neverHtml() throws Exception {
        // a request line the connector refuses (a control character), before any application code runs
        assertOutcome(RawHttp.send("127.0.0.1", port, "GET", "/fhir/Organization?name=a\u0001b", Map.of(), null),
                400, ErrorCode.INVALID_REQUEST);
        // a header block larger than the connector takes
        assertOutcome(RawHttp.send("127.0.0.1", port, "GET", "/fhir/metadata", Map.of("X-Big", "x".repeat(20_000)), null),
                400, ErrorCode.INVALID_REQUEST);
        // a malformed URI outside /fhir
        assertOutcome(RawHttp.send("127.0.0.1", port, "GET", "/%zz/x", Map.of(), null), 400, ErrorCode.INVALID_REQUEST);
        // an unknown path outside /fhir, and a method the certificate download does not take
        assertOutcome(RawHttp.send("127.0.0.1", port, "GET", "/nowhere/at/all", Map.of(), null), 404, ErrorCode.NOT_FOUND);
        assertOutcome(RawHttp.send("127.0.0.1", port, "DELETE", "/.well-known/carerelay/ca.pem", Map.of(), null),
                405, ErrorCode.NOT_SUPPORTED);
        // a browser asking for HTML gets an OperationOutcome too, XML when it asks for XML
        RawHttp.Response xml = RawHttp.send("127.0.0.1", port, "GET", "/nowhere?_format=xml", Map.of(), null);
        assertThat(xml.status()).isEqualTo(404);
        assertThat(xml.header("Content-Type")).startsWith("application/fhir+xml");
        assertThat(xml.body()).contains("<OperationOutcome").contains("not-found");

        // HAPI's client reads the outcome like any FHIR error
        assertThatThrownBy(() -> anonymous().fetchResourceFromUrl(Organization.class,
                "http://127.0.0.1:" + port + "/nowhere/Organization/1"))
                .isInstanceOfSatisfying(BaseServerResponseException.class,
                        e -> assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.NOT_FOUND));
    }

    private static void assertOutcome(RawHttp.Response response, int status, ErrorCode code) {
        assertThat(response.status()).isEqualTo(status);
        assertThat(response.header("Content-Type")).startsWith("application/fhir+json");
        assertThat(response.body()).doesNotContain("<html").doesNotContain("<!doctype");
        OperationOutcome outcome = FHIR.newJsonParser().parseResource(OperationOutcome.class, dechunk(response));
        assertThat(OperationOutcomes.codeOf(outcome)).isEqualTo(code);
    }

    /** The body of a response that may have come chunked (chunk sizes count UTF-8 bytes). */
    private static String dechunk(RawHttp.Response response) {
        if (!"chunked".equalsIgnoreCase(response.header("Transfer-Encoding"))) {
            return response.body();
        }
        byte[] body = response.body().getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int at = 0;
        while (true) {
            int lineEnd = at;
            while (body[lineEnd] != '\r') {
                lineEnd++;
            }
            int size = Integer.parseInt(new String(body, at, lineEnd - at, StandardCharsets.US_ASCII).trim(), 16);
            if (size == 0) {
                return out.toString(StandardCharsets.UTF_8);
            }
            out.write(body, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
    }

    // --- operations

    @Test
    void markRead_withContentTypeAndAnEmptyBody_isAccepted() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "MarkRead-Sender");
        Participants.Registered recipient = Participants.registerNew(this, "MarkRead-Recipient");
        String messageId = Conversations.send(client(sender.token()),
                Conversations.message(null, "Allgemeine Frage zur Vernetzung", recipient.organizationId()));

        HttpResponse<String> response = http("POST", "/fhir/Communication/" + messageId + "/$mark-read",
                recipient.token(), "application/fhir+json", new byte[0]);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Parameters out = FHIR.newJsonParser().parseResource(Parameters.class, response.body());
        assertThat(out.getParameter("readAt")).isNotNull();
        Bundle unread = client(recipient.token()).search().forResource(Communication.class)
                .where(new ca.uhn.fhir.rest.gclient.TokenClientParam("unread").exactly().code("true"))
                .returnBundle(Bundle.class).execute();
        assertThat(unread.getEntry()).isEmpty();
    }

    @Test
    void consentTemplate_asksForFhir_getsABinary_otherwiseThePdf() throws Exception {
        Participants.Registered clinic = Participants.registerNew(this, "Template-Clinic");
        String patientId = Conversations.createPatient(client(clinic.token()),
                Conversations.patient("Vorlage", "Erika", Conversations.kvnr()));

        Binary binary = client(clinic.token()).operation().onInstance(new IdType("Patient", patientId))
                .named("$consent-template").withNoParameters(Parameters.class).useHttpGet()
                .returnResourceType(Binary.class).execute();
        assertThat(binary.getContentType()).isEqualTo("application/pdf");
        assertThat(new String(binary.getData(), 0, 5, StandardCharsets.US_ASCII)).isEqualTo("%PDF-");

        HttpResponse<String> fhirJson = http("GET", "/fhir/Patient/" + patientId + "/$consent-template", clinic.token(),
                null, null);
        assertThat(fhirJson.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/fhir+json"));
        assertThat(FHIR.newJsonParser().parseResource(Binary.class, fhirJson.body()).getContentType())
                .isEqualTo("application/pdf");

        // curl and browsers keep getting the PDF
        HttpResponse<byte[]> pdf = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(baseUrl() + "/Patient/" + patientId + "/$consent-template"))
                .header("Authorization", "Bearer " + clinic.token()).header("Accept", "*/*").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(pdf.statusCode()).isEqualTo(200);
        assertThat(pdf.headers().firstValue("Content-Type")).hasValue("application/pdf");
        assertThat(new String(pdf.body(), 0, 5, StandardCharsets.US_ASCII)).isEqualTo("%PDF-");
    }

    @Test
    void batchTransactionAndHistory_answer405NotSupported_butAVersionedReadIsNotRefused() {
        Participants.Registered clinic = Participants.registerNew(this, "History-Clinic");
        IGenericClient client = client(clinic.token());
        String patientId = Conversations.createPatient(client, Conversations.patient("Verlauf", "Eva", Conversations.kvnr()));

        Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        transaction.addEntry().setResource(Conversations.patient("Stapel", "Tom", Conversations.kvnr()))
                .getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
        assertNotSupported(() -> client.transaction().withBundle(transaction).execute());
        Bundle batch = transaction.copy().setType(Bundle.BundleType.BATCH);
        assertNotSupported(() -> client.transaction().withBundle(batch).execute());

        assertNotSupported(() -> client.history().onServer().returnBundle(Bundle.class).execute());
        assertNotSupported(() -> client.history().onType(Patient.class).returnBundle(Bundle.class).execute());
        assertNotSupported(() -> client.history().onInstance(new IdType("Patient", patientId)).returnBundle(Bundle.class).execute());

        // X/{id}/_history/{version} is a read of one version, not a history interaction
        assertThat(client.read().resource(Patient.class).withIdAndVersion(patientId, "1").execute()
                .getIdElement().getVersionIdPart()).isEqualTo("1");
    }

    private static void assertNotSupported(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(MethodNotAllowedException.class,
                e -> assertThat(errorCodeOf(e)).isEqualTo(ErrorCode.NOT_SUPPORTED));
    }

    // --- the CapabilityStatement and the OperationDefinitions

    private static final org.carerelay.fhir.validation.ResourceValidator VALIDATOR =
            new org.carerelay.fhir.validation.ResourceValidator(FHIR);

    @Test
    void capabilityStatement_namesCareRelayBearerTokensAndVersioning_andValidatesAgainstR4() {
        CapabilityStatement statement = anonymous().capabilities().ofType(CapabilityStatement.class).execute();

        assertThat(statement.getSoftware().getName()).isEqualTo("CareRelay");
        assertThat(statement.getSoftware().getVersion()).isNotBlank()
                .isNotEqualTo(ca.uhn.fhir.util.VersionUtil.getVersion())
                .isEqualTo(buildInfo().getProperty("build.version"));
        assertThat(statement.getImplementation().getUrl()).isEqualTo(baseUrl());
        CapabilityStatement.CapabilityStatementRestComponent rest = statement.getRestFirstRep();
        assertThat(rest.getSecurity().getCors()).isFalse();
        assertThat(rest.getSecurity().getDescription()).contains("Bearer");
        assertThat(rest.getResource()).isNotEmpty().allSatisfy(resource -> {
            boolean updatable = resource.getInteraction().stream()
                    .anyMatch(i -> i.getCode() == CapabilityStatement.TypeRestfulInteraction.UPDATE);
            boolean vread = resource.getInteraction().stream()
                    .anyMatch(i -> i.getCode() == CapabilityStatement.TypeRestfulInteraction.VREAD);
            assertThat(resource.getVersioning()).as(resource.getType()).isEqualTo(!vread
                    ? CapabilityStatement.ResourceVersionPolicy.NOVERSION
                    : updatable ? CapabilityStatement.ResourceVersionPolicy.VERSIONEDUPDATE
                    : CapabilityStatement.ResourceVersionPolicy.VERSIONED);
        });
        // Task and AuditEvent carry no meta.versionId: a client must not be told they keep versions
        assertThat(rest.getResource()).filteredOn(r -> java.util.Set.of("Task", "AuditEvent").contains(r.getType()))
                .hasSize(2).allSatisfy(r -> assertThat(r.getVersioning())
                        .isEqualTo(CapabilityStatement.ResourceVersionPolicy.NOVERSION));
        assertThat(rest.getResource()).filteredOn(r -> java.util.Set.of("Patient", "Organization", "Communication")
                .contains(r.getType())).hasSize(3).allSatisfy(r -> assertThat(r.getVersioning())
                        .isNotEqualTo(CapabilityStatement.ResourceVersionPolicy.NOVERSION));
        assertThat(VALIDATOR.validate(statement).errors()).isEmpty();
    }

    @Test
    void everyOperationDefinition_listsItsOutParameters_andEachParameterHasATypeOrParts() {
        CapabilityStatement statement = anonymous().capabilities().ofType(CapabilityStatement.class).execute();
        java.util.List<String> definitions = new java.util.ArrayList<>();
        CapabilityStatement.CapabilityStatementRestComponent rest = statement.getRestFirstRep();
        rest.getOperation().forEach(op -> definitions.add(op.getDefinition()));
        rest.getResource().forEach(r -> r.getOperation().forEach(op -> definitions.add(op.getDefinition())));
        assertThat(definitions).hasSizeGreaterThanOrEqualTo(12);

        for (String url : definitions) {
            String id = url.substring(url.indexOf("OperationDefinition/") + "OperationDefinition/".length());
            OperationDefinition definition = admin().read().resource(OperationDefinition.class).withId(id).execute();
            String json = FHIR.newJsonParser().encodeResourceToString(definition);
            assertThat(definition.getParameter()).as(json)
                    .anyMatch(p -> p.getUse() == OperationDefinition.OperationParameterUse.OUT);
            assertThat(definition.getParameter()).as(url).allSatisfy(p -> assertThat(p.hasType() || p.hasPart())
                    .as(json + ": parameter " + p.getName() + " has a type or parts").isTrue());
            assertThat(VALIDATOR.validate(definition).errors()).as(json).isEmpty();
        }
    }

    private static java.util.Properties buildInfo() {
        java.util.Properties properties = new java.util.Properties();
        try (var in = FhirProtocolIT.class.getResourceAsStream("/META-INF/build-info.properties")) {
            properties.load(in);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return properties;
    }
}
