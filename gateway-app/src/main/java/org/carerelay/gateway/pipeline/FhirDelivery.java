package org.carerelay.gateway.pipeline;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.IRestfulClientFactory;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.exceptions.FhirClientConnectionException;
import ca.uhn.fhir.rest.client.interceptor.AdditionalRequestHeadersInterceptor;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.stereotype.Component;

/**
 * Delivery to a recipient's FHIR server: attachments first as Binary, then the Communication with
 * the patient contained and organisations referenced by identifier. The Communication carries
 * {@code identifier = urn:uuid:<id>} and is created conditionally on it, so a repeated delivery
 * after a crash finds the first one instead of creating a twin. Endpoint {@code header} entries
 * ({@code Name: value}) are sent with every request (the recipient's credentials).
 */
@Component
public class FhirDelivery {

    static final String URN_SYSTEM = "urn:ietf:rfc:3986";

    private final DeliveryAttempt attempt;
    private final RecipientAttachments recipientAttachments;
    private final ResourceStore store;
    private final DirectoryService directory;
    private final FhirContext clientContext;
    private final java.net.http.HttpClient http;
    /** Writes attachments into the pipes that uploads read from. */
    private final java.util.concurrent.ExecutorService producers = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread thread = new Thread(r, "attachment-upload");
        thread.setDaemon(true);
        return thread;
    });
    private final CareRelayProperties.Pipeline settings;

    public FhirDelivery(DeliveryAttempt attempt, RecipientAttachments recipientAttachments, ResourceStore store, DirectoryService directory,
            CareRelayProperties props) {
        this.attempt = attempt;
        this.recipientAttachments = recipientAttachments;
        this.store = store;
        this.directory = directory;
        this.settings = props.pipeline();
        this.http = java.net.http.HttpClient.newBuilder().connectTimeout(settings.connectTimeout()).build();
        this.clientContext = FhirContext.forR4();
        IRestfulClientFactory factory = clientContext.getRestfulClientFactory();
        factory.setServerValidationMode(ServerValidationModeEnum.NEVER);
        factory.setConnectTimeout((int) settings.connectTimeout().toMillis());
        factory.setSocketTimeout((int) settings.responseTimeout().toMillis());
    }

    public void deliver(String messageId, String recipient) {
        // attachments stream within the lease: one second per MB on top
        attempt.run(messageId, recipient, settings.responseTimeout().multipliedBy(4)
                .plusSeconds(recipientAttachments.totalBytes(messageId) / 1_000_000), this::send);
    }

    private DeliveryAttempt.Outcome send(DeliveryAttempt.Context context) {
        IGenericClient client = clientContext.newRestfulGenericClient(context.endpoint().getAddress().replaceAll("/+$", ""));
        AdditionalRequestHeadersInterceptor headers = new AdditionalRequestHeadersInterceptor();
        forEachHeader(context.endpoint(), headers::addHeaderValue);
        client.registerInterceptor(headers);
        try {
            Communication outgoing = outgoing(context, client);
            String id = context.message().id();
            MethodOutcome outcome = client.create().resource(outgoing)
                    .conditionalByUrl("Communication?identifier=" + URN_SYSTEM + "|urn:uuid:" + id).execute();
            String remoteId = outcome.getId() == null ? "?" : outcome.getId().toUnqualifiedVersionless().getValue();
            return DeliveryAttempt.Outcome.delivered("FHIR " + remoteId);
        } catch (FhirClientConnectionException e) {
            return DeliveryAttempt.Outcome.retry("connection failed: " + rootMessage(e));
        } catch (org.carerelay.gateway.fhir.GatewayException e) {
            throw e; // ours, not the recipient's answer
        } catch (BaseServerResponseException e) {
            int status = e.getStatusCode();
            if (status == 408 || status == 429 || status >= 500) {
                return DeliveryAttempt.Outcome.retry("HTTP " + status);
            }
            return DeliveryAttempt.Outcome.permanentFailure("HTTP " + status + " from recipient");
        }
    }

    private Communication outgoing(DeliveryAttempt.Context context, IGenericClient client) {
        Communication out = context.communication().copy();
        String id = context.message().id();
        out.setId((String) null);
        out.setMeta(null);
        out.addIdentifier(new Identifier().setSystem(URN_SYSTEM).setValue("urn:uuid:" + id));
        if (context.message().subjectPatient() != null) {
            Patient patient = store.read(Patient.class, context.message().subjectPatient()).orElseThrow();
            patient.setId("patient");
            patient.setMeta(null);
            patient.getExtension().removeIf(e -> Systems.EXT_CONSENT_STATUS.equals(e.getUrl()));
            out.getContained().clear();
            out.addContained(patient);
            out.setSubject(new Reference("#patient"));
        }
        out.setSender(organizationReference(out.getSender()));
        out.getRecipient().replaceAll(this::organizationReference);
        out.getPartOf().replaceAll(FhirDelivery::messageReference);
        out.getInResponseTo().replaceAll(FhirDelivery::messageReference);
        for (Communication.CommunicationPayloadComponent payload : out.getPayload()) {
            String binaryId = RecipientAttachments.binaryIdOf(payload);
            if (binaryId == null) {
                continue;
            }
            RecipientAttachments.Planned planned = recipientAttachments.plan(binaryId, context.recipient().getIdElement().getIdPart());
            String url = postBinary(context, planned);
            Attachment attachment = payload.hasContentAttachment() ? payload.getContentAttachment()
                    : new Attachment().setContentType(planned.meta().contentType());
            attachment.setUrl(url);
            attachment.setData(null);
            attachment.setSize((int) Math.min(planned.meta().size(), Integer.MAX_VALUE));
            if (planned.meta().sha1Base64() != null) {
                attachment.setHash(java.util.Base64.getDecoder().decode(planned.meta().sha1Base64()));
            }
            if (planned.enveloped()) {
                attachment.addExtension(RecipientAttachments.EXT_ENVELOPE, new org.hl7.fhir.r4.model.CodeType(RecipientAttachments.PKCS7_MIME));
            }
            payload.setContent(attachment);
        }
        return out;
    }

    /** Our organisation ids mean nothing to the recipient: refer by IK number / BSNR / Telematik-ID and name. */
    private Reference organizationReference(Reference local) {
        String orgId = local.getReferenceElement().getIdPart();
        Organization org = orgId == null ? null : directory.findOrganization(orgId).orElse(null);
        if (org == null) {
            return local;
        }
        Reference ref = new Reference().setDisplay(org.getName());
        for (String system : new String[] {Systems.TELEMATIK_ID, Systems.IKNR, Systems.BSNR}) {
            for (Identifier identifier : org.getIdentifier()) {
                if (system.equals(identifier.getSystem()) && identifier.hasValue() && !ref.hasIdentifier()) {
                    ref.setIdentifier(new Identifier().setSystem(system).setValue(identifier.getValue()));
                }
            }
        }
        return ref;
    }

    private static Reference messageReference(Reference local) {
        String id = local.getReferenceElement().getIdPart();
        return new Reference().setIdentifier(new Identifier().setSystem(URN_SYSTEM).setValue("urn:uuid:" + id));
    }

    /**
     * {@code POST [base]/Binary} with the attachment's bytes (or its CMS envelope) as the raw body,
     * streamed: a producer thread writes it in chunks that the HTTP client sends. The stored
     * object is verified before its first byte leaves; if it does not verify, the request is
     * aborted (no complete body reaches the recipient) and the integrity failure is rethrown.
     *
     * @return {@code Binary/<id>} as the recipient named it
     */
    private String postBinary(DeliveryAttempt.Context context, RecipientAttachments.Planned planned) {
        String base = context.endpoint().getAddress().replaceAll("/+$", "");
        StreamingBody body = new StreamingBody(out -> recipientAttachments.write(planned, out), producers);
        // the whole body must get through within the response timeout plus one second per MB
        java.time.Duration timeout = settings.responseTimeout().plusSeconds(planned.meta().size() / 1_000_000);
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/Binary"))
                .timeout(timeout)
                .header("Content-Type", planned.contentType())
                .header("Accept", "application/fhir+json")
                .POST(java.net.http.HttpRequest.BodyPublishers.fromPublisher(body));
        forEachHeader(context.endpoint(), request::header);
        java.net.http.HttpResponse<Void> response;
        try {
            response = http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.discarding());
        } catch (java.io.IOException e) {
            if (body.subscribed) {
                rethrowProducerFailure(body);
            }
            throw new FhirClientConnectionException("Binary upload failed: " + rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FhirClientConnectionException("Binary upload interrupted");
        }
        rethrowProducerFailure(body);
        int status = response.statusCode();
        if (status / 100 != 2) {
            throw BaseServerResponseException.newInstance(status, "Binary upload answered HTTP " + status);
        }
        String location = response.headers().firstValue("Location").orElse(null);
        if (location == null || !location.contains("Binary/")) {
            return null;
        }
        return "Binary/" + location.replaceAll(".*Binary/([^/]+).*", "$1");
    }

    /** The endpoint's {@code header} entries ({@code Name: value}), to be sent with every request. */
    private static void forEachHeader(org.hl7.fhir.r4.model.Endpoint endpoint, java.util.function.BiConsumer<String, String> action) {
        for (var header : endpoint.getHeader()) {
            String value = header.getValue();
            int colon = value == null ? -1 : value.indexOf(':');
            if (colon > 0) {
                action.accept(value.substring(0, colon).trim(), value.substring(colon + 1).trim());
            }
        }
    }

    /** A failed producer (e.g. an attachment that does not verify) decides the outcome, not the HTTP error it caused. */
    private static void rethrowProducerFailure(StreamingBody body) {
        try {
            body.done.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new FhirClientConnectionException("Binary upload failed: " + rootMessage(e.getCause()));
        } catch (java.util.concurrent.TimeoutException e) {
            throw new FhirClientConnectionException("Binary upload: the attachment stream did not finish");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FhirClientConnectionException("Binary upload interrupted");
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName();
    }

}
