package org.carerelay.gateway.pipeline;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.PreferReturnEnum;
import ca.uhn.fhir.rest.client.apache.ApacheRestfulClientFactory;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.exceptions.FhirClientConnectionException;
import ca.uhn.fhir.rest.client.interceptor.AdditionalRequestHeadersInterceptor;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.util.FhirTerser;
import jakarta.annotation.PreDestroy;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.apache.http.Header;
import org.apache.http.HttpEntity;
import org.apache.http.HttpHost;
import org.apache.http.HttpResponseInterceptor;
import org.apache.http.client.HttpClient;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.config.Registry;
import org.apache.http.config.RegistryBuilder;
import org.apache.http.conn.ConnectionReleaseTrigger;
import org.apache.http.conn.DnsResolver;
import org.apache.http.conn.socket.ConnectionSocketFactory;
import org.apache.http.conn.socket.LayeredConnectionSocketFactory;
import org.apache.http.conn.socket.PlainConnectionSocketFactory;
import org.apache.http.conn.ssl.SSLConnectionSocketFactory;
import org.apache.http.entity.AbstractHttpEntity;
import org.apache.http.entity.HttpEntityWrapper;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClients;
import org.apache.http.impl.conn.BasicHttpClientConnectionManager;
import org.apache.http.protocol.HttpContext;
import org.apache.http.util.EntityUtils;
import org.carerelay.fhir.Systems;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.routes.egress.EgressPolicy;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Delivery to a recipient's FHIR server: attachments first as Binary, then the Communication as a
 * conditional create on {@code identifier = urn:uuid:<id>}, so a repeated delivery after a crash
 * finds the first one. The host is resolved once and every address checked against the
 * {@link EgressPolicy}; the client connects only to those addresses, checks each again right before
 * connecting and follows no redirects. What is sent: docs/mappings.md, section 9.
 */
@Component
public class FhirDelivery {

    static final String URN_SYSTEM = "urn:ietf:rfc:3986";
    /** Local id of the subject patient contained in a delivered Communication. */
    static final String CONTAINED_PATIENT = "patient";
    /** The most of a partner's answer that is read (an OperationOutcome or the created Communication is far smaller). */
    static final long MAX_RESPONSE_BYTES = 4L * 1024 * 1024;

    /**
     * The {@code If-None-Exist} header of the conditional create: only the search query, as the
     * FHIR specification defines it ({@code identifier=system|value}), not a URL.
     */
    static String ifNoneExist(String messageId) {
        return "identifier=" + URN_SYSTEM + "|urn:uuid:" + messageId;
    }

    private static final Logger log = LoggerFactory.getLogger(FhirDelivery.class);

    private final DeliveryAttempt attempt;
    private final RecipientAttachments recipientAttachments;
    private final UploadedBinaries uploaded;
    private final ResourceStore store;
    private final DirectoryService directory;
    private final FhirContext clientContext;
    private final PinnedClientFactory clients;
    /** Ends attempts that outrun their limit (see {@link #attemptLimit}). */
    private final ScheduledThreadPoolExecutor watchdog = new ScheduledThreadPoolExecutor(1, runnable -> {
        Thread thread = new Thread(runnable, "fhir-delivery-watchdog");
        thread.setDaemon(true);
        return thread;
    });
    private final EgressPolicy egress;
    private final CareRelayProperties.Pipeline settings;

    public FhirDelivery(DeliveryAttempt attempt, RecipientAttachments recipientAttachments, UploadedBinaries uploaded,
            ResourceStore store, DirectoryService directory, CareRelayProperties props, EgressPolicy egress) {
        this.attempt = attempt;
        this.uploaded = uploaded;
        this.recipientAttachments = recipientAttachments;
        this.store = store;
        this.directory = directory;
        this.settings = props.pipeline();
        this.egress = egress;
        this.clientContext = FhirContext.forR4();
        this.clients = new PinnedClientFactory(clientContext);
        clientContext.setRestfulClientFactory(clients);
        watchdog.setRemoveOnCancelPolicy(true); // an attempt that ended in time leaves nothing queued
    }

    public void deliver(String messageId, String recipient) {
        // attachments stream within the lease: one second per MB on top
        Duration lease = settings.responseTimeout().multipliedBy(4)
                .plusSeconds(recipientAttachments.totalBytes(messageId) / 1_000_000);
        Duration limit = attemptLimit(lease, settings.responseTimeout());
        // counted from before the claim, so the attempt ends before the lease does whatever comes first
        long deadline = System.nanoTime() + limit.toNanos();
        attempt.run(messageId, recipient, lease, context -> send(context, limit, deadline));
    }

    /**
     * How long one attempt may take in all: its lease less one response timeout, so that an attempt
     * has ended, and its outcome is being written, before another may claim the delivery. The
     * timeouts alone do not bound an attempt: a read timeout starts again with every byte, and a
     * write to a partner that reads nothing has none.
     */
    static Duration attemptLimit(Duration lease, Duration responseTimeout) {
        return lease.minus(responseTimeout); // the lease is at least four response timeouts
    }

    @PreDestroy
    void stopWatchdog() {
        watchdog.shutdownNow();
    }

    private DeliveryAttempt.Outcome send(DeliveryAttempt.Context context, Duration limit, long deadline) {
        AtomicBoolean overdue = new AtomicBoolean();
        AtomicReference<CloseableHttpClient> running = new AtomicReference<>();
        Watch watch;
        try {
            watch = watch(running, deadline, overdue);
        } catch (RejectedExecutionException e) {
            return DeliveryAttempt.Outcome.retry("shutting down"); // nothing sent
        }
        Uploads uploads = new Uploads();
        DeliveryAttempt.Outcome outcome;
        try (watch) {
            outcome = send(context, limit, overdue, running, uploads);
        }
        if (!outcome.retry() && (uploads.reused || uploads.recorded)) { // ended: its recorded uploads are not needed
            forgetUploads(context);
        }
        return outcome;
    }

    /**
     * What one attempt found and left in {@link UploadedBinaries}. An attempt looks up every attachment before
     * its create, so a delivery that ends with neither has no records to remove (most have no attachments).
     */
    private static final class Uploads {
        /** The message refers to a Binary an earlier attempt uploaded. */
        boolean reused;
        /** This attempt recorded an upload. */
        boolean recorded;
    }

    private DeliveryAttempt.Outcome send(DeliveryAttempt.Context context, Duration limit, AtomicBoolean overdue,
            AtomicReference<CloseableHttpClient> running, Uploads uploads) {
        String base = context.endpoint().getAddress().replaceAll("/+$", "");
        URI uri;
        try {
            uri = URI.create(base);
        } catch (IllegalArgumentException e) {
            return DeliveryAttempt.Outcome.permanentFailure("invalid endpoint address");
        }
        String host = uri.getHost();
        int port = uri.getPort() != -1 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        if (host == null) {
            return DeliveryAttempt.Outcome.permanentFailure("invalid endpoint address");
        }
        List<InetSocketAddress> checked;
        try {
            checked = egress.resolve(host, port);
        } catch (EgressPolicy.EgressRefusedException e) {
            return DeliveryAttempt.Outcome.refused(e.getMessage());
        } catch (UnknownHostException e) {
            return DeliveryAttempt.Outcome.retry("unknown host " + host);
        }
        try (CloseableHttpClient http = pinnedClient(host, checked); PinnedClientFactory.Binding bound = clients.bind(http)) {
            running.set(http);
            if (overdue.get()) {
                return DeliveryAttempt.Outcome.retry(overdueDetail(limit)); // the host's name took the attempt's time
            }
            IGenericClient client = clients.newGenericClient(base);
            AdditionalRequestHeadersInterceptor headers = new AdditionalRequestHeadersInterceptor();
            forEachHeader(context.endpoint(), headers::addHeaderValue);
            client.registerInterceptor(headers);
            Communication outgoing = outgoing(context, http, base, uploads);
            String id = context.message().id();
            // the partner need not send the Communication back (an echo above the answer cap would fail the attempt)
            MethodOutcome outcome = client.create().resource(outgoing).prefer(PreferReturnEnum.MINIMAL)
                    .withAdditionalHeader(Constants.HEADER_IF_NONE_EXIST, ifNoneExist(id)).execute();
            String remoteId = outcome.getId() == null ? "?" : outcome.getId().toUnqualifiedVersionless().getValue();
            return DeliveryAttempt.Outcome.delivered("FHIR " + remoteId);
        } catch (FhirClientConnectionException e) {
            EgressPolicy.EgressRefusedException refused = refusalIn(e);
            if (refused != null) {
                return DeliveryAttempt.Outcome.refused(refused.getMessage());
            }
            return DeliveryAttempt.Outcome.retry(overdue.get() ? overdueDetail(limit) : "connection failed: " + rootMessage(e));
        } catch (GatewayException e) {
            throw e; // ours, not the recipient's answer
        } catch (BaseServerResponseException e) {
            int status = e.getStatusCode();
            if (status == 408 || status == 429 || status >= 500) {
                return DeliveryAttempt.Outcome.retry("HTTP " + status);
            }
            if (uploads.reused) {
                // the server may have removed a Binary an earlier attempt uploaded: once more with fresh uploads
                forgetUploads(context);
                return DeliveryAttempt.Outcome.retry("HTTP " + status + " from recipient for a Communication that referred to"
                        + " attachments uploaded in an earlier attempt; uploading them again");
            }
            return DeliveryAttempt.Outcome.permanentFailure("HTTP " + status + " from recipient");
        } catch (IOException e) {
            return DeliveryAttempt.Outcome.retry(overdue.get() ? overdueDetail(limit) : "connection failed: " + rootMessage(e));
        } catch (IllegalStateException e) {
            if (overdue.get()) {
                // the watchdog closed the client between two requests (after a Binary upload, before the
                // next one): Apache's client refuses with "Connection manager is shut down"
                return DeliveryAttempt.Outcome.retry(overdueDetail(limit));
            }
            throw e;
        }
    }

    /**
     * How an attachment goes to the recipient: {@code plain}, or {@code cms:} and the SHA-256 of the certificate it is
     * enveloped for. An upload is reused only in the same form: not after the recipient registered, removed or
     * replaced its certificate.
     */
    private static String formOf(RecipientAttachments.Planned planned) {
        if (!planned.enveloped()) {
            return "plain";
        }
        try {
            return "cms:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(planned.certificate().getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot fingerprint the recipient's certificate", e);
        }
    }

    /** The uploads of a delivery that ended are not needed any more; left behind they would take a row each. */
    private void forgetUploads(DeliveryAttempt.Context context) {
        try {
            uploaded.forget(context.message().id(), context.recipient().getIdElement().getIdPart());
        } catch (RuntimeException e) {
            log.warn("Could not remove the recorded Binary uploads of the delivery of message {}: {}", context.message().id(),
                    e.getClass().getSimpleName());
        }
    }

    private static String overdueDetail(Duration limit) {
        return "connection failed: attempt did not complete within " + limit.toMillis() + " ms";
    }

    /** Ends a running attempt: closing its client closes the connection, and a blocked read or write fails at once. */
    private interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    private Watch watch(AtomicReference<CloseableHttpClient> running, long deadline, AtomicBoolean overdue) {
        ScheduledFuture<?> guard = watchdog.schedule(() -> {
            overdue.set(true);
            CloseableHttpClient http = running.get();
            if (http != null) {
                try {
                    http.close();
                } catch (IOException | RuntimeException ignored) {
                    // the attempt fails either way
                }
            }
        }, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return () -> guard.cancel(false);
    }

    /**
     * An HTTP client for one delivery: {@code host} resolves only to the addresses already checked,
     * each connection is checked again with the address it goes to, no redirects, no automatic
     * retries (the pipeline retries).
     */
    private CloseableHttpClient pinnedClient(String host, List<InetSocketAddress> checked) {
        InetAddress[] addresses = checked.stream().map(InetSocketAddress::getAddress).toArray(InetAddress[]::new);
        DnsResolver pinned = name -> {
            if (name.equalsIgnoreCase(host) || name.equalsIgnoreCase("[" + host + "]")) {
                return addresses.clone();
            }
            throw new UnknownHostException("not the endpoint's host: " + name);
        };
        Registry<ConnectionSocketFactory> sockets = RegistryBuilder.<ConnectionSocketFactory>create()
                .register("http", new CheckedSocketFactory(PlainConnectionSocketFactory.getSocketFactory()))
                .register("https", new CheckedSocketFactory(SSLConnectionSocketFactory.getSocketFactory()))
                .build();
        RequestConfig timeouts = RequestConfig.custom()
                .setConnectTimeout((int) settings.connectTimeout().toMillis())
                .setConnectionRequestTimeout((int) settings.connectTimeout().toMillis())
                .setSocketTimeout((int) settings.responseTimeout().toMillis())
                .setRedirectsEnabled(false)
                .build();
        return HttpClients.custom()
                .setConnectionManager(new BasicHttpClientConnectionManager(sockets, null, null, pinned))
                .addInterceptorLast((HttpResponseInterceptor) (response, context) -> {
                    if (response.getEntity() != null) {
                        response.setEntity(new CappedEntity(response.getEntity(), MAX_RESPONSE_BYTES));
                    }
                })
                .setDefaultRequestConfig(timeouts)
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .build();
    }

    /**
     * The restful client factory of this class's FhirContext. HAPI's generic client sends every
     * request through the factory of its FhirContext (it asks the context when it builds a request),
     * not through the factory that created it. So the context gets this one, and it hands out only
     * the pinned client the delivery on the current thread has bound; with none bound it refuses.
     * No request can go out through a client of HAPI's own making, which would resolve the host
     * again, connect unchecked, follow redirects and time out after HAPI's 10 s instead of the
     * pipeline's settings.
     */
    static final class PinnedClientFactory extends ApacheRestfulClientFactory {
        private final ThreadLocal<HttpClient> bound = new ThreadLocal<>();

        PinnedClientFactory(FhirContext context) {
            super(context);
            setServerValidationMode(ServerValidationModeEnum.NEVER);
        }

        /** Binds {@code http} to the current thread until the returned binding is closed. */
        Binding bind(HttpClient http) {
            if (bound.get() != null) {
                throw new IllegalStateException("a pinned HTTP client is bound to this thread already");
            }
            bound.set(http);
            return bound::remove;
        }

        @Override
        public HttpClient getNativeHttpClient() {
            HttpClient http = bound.get();
            if (http == null) {
                throw new IllegalStateException("no pinned HTTP client is bound to this thread; HAPI's own client is never used");
            }
            return http;
        }

        @Override
        public void setHttpClient(Object httpClient) {
            throw new UnsupportedOperationException("the client is bound per delivery");
        }

        interface Binding extends AutoCloseable {
            @Override
            void close();
        }
    }

    /**
     * A partner's answer, read no further than {@code max} bytes: HAPI reads an error answer whole
     * into memory, and an endless one would take the node's heap.
     */
    static final class CappedEntity extends HttpEntityWrapper {
        private final long max;

        CappedEntity(HttpEntity wrapped, long max) {
            super(wrapped);
            this.max = max;
        }

        @Override
        public InputStream getContent() throws IOException {
            InputStream content = super.getContent();
            return new FilterInputStream(content) {
                private long read;

                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        count(1);
                    }
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) {
                        count(n);
                    }
                    return n;
                }

                private void count(int n) throws IOException {
                    read += n;
                    if (read > max) {
                        // closing would read the rest of a chunked or sized body to reuse the connection
                        if (content instanceof ConnectionReleaseTrigger trigger) {
                            trigger.abortConnection();
                        }
                        throw new IOException("answer longer than " + max + " bytes");
                    }
                }
            };
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            try (InputStream in = getContent()) {
                in.transferTo(out);
            }
        }

        @Override
        public boolean isRepeatable() {
            return false;
        }
    }

    /** Checks the resolved address against the egress policy right before the socket connects to it. */
    private final class CheckedSocketFactory implements LayeredConnectionSocketFactory {
        private final ConnectionSocketFactory delegate;

        CheckedSocketFactory(ConnectionSocketFactory delegate) {
            this.delegate = delegate;
        }

        @Override
        public Socket createSocket(HttpContext context) throws IOException {
            return delegate.createSocket(context);
        }

        @Override
        public Socket connectSocket(int connectTimeout, Socket socket, HttpHost host, InetSocketAddress remoteAddress,
                InetSocketAddress localAddress, HttpContext context) throws IOException {
            egress.check(host.getHostName(), remoteAddress);
            return delegate.connectSocket(connectTimeout, socket, host, remoteAddress, localAddress, context);
        }

        @Override
        public Socket createLayeredSocket(Socket socket, String target, int port, HttpContext context) throws IOException {
            if (delegate instanceof LayeredConnectionSocketFactory layered) {
                return layered.createLayeredSocket(socket, target, port, context);
            }
            throw new IOException("no TLS on this scheme");
        }
    }

    private static EgressPolicy.EgressRefusedException refusalIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EgressPolicy.EgressRefusedException refused) {
                return refused;
            }
        }
        return null;
    }

    private Communication outgoing(DeliveryAttempt.Context context, CloseableHttpClient http, String base, Uploads uploads) {
        Communication out = context.communication().copy();
        String id = context.message().id();
        out.setId((String) null);
        out.setMeta(null);
        out.addIdentifier(new Identifier().setSystem(URN_SYSTEM).setValue("urn:uuid:" + id));
        if (context.message().subjectPatient() != null) {
            Patient patient = store.read(Patient.class, context.message().subjectPatient()).orElseThrow();
            patient.setId(CONTAINED_PATIENT);
            patient.setMeta(null);
            patient.getExtension().removeIf(e -> Systems.EXT_CONSENT_STATUS.equals(e.getUrl()));
            // only a patient the sender put in replaces ours; everything else the message carries
            // (e.g. the Observations of an ORU^R01, which payload.contentReference points at) goes along
            out.getContained().removeIf(r -> r instanceof Patient
                    || CONTAINED_PATIENT.equals(String.valueOf(r.getIdElement().getIdPart()).replaceFirst("^#", "")));
            out.addContained(patient);
            out.setSubject(new Reference("#" + CONTAINED_PATIENT));
        }
        repointContainedReferences(out, context.message().subjectPatient());
        out.setSender(organizationReference(out.getSender()));
        out.getRecipient().replaceAll(this::organizationReference);
        out.getPartOf().replaceAll(FhirDelivery::messageReference);
        out.getInResponseTo().replaceAll(FhirDelivery::messageReference);
        for (Communication.CommunicationPayloadComponent payload : out.getPayload()) {
            String binaryId = RecipientAttachments.binaryIdOf(payload);
            if (binaryId == null) {
                continue;
            }
            String recipient = context.recipient().getIdElement().getIdPart();
            RecipientAttachments.Planned planned = recipientAttachments.plan(binaryId, recipient);
            // an earlier attempt of this delivery may have uploaded it already (its create then failed)
            String form = formOf(planned);
            String url = uploaded.find(context.message().id(), recipient, binaryId, base, form).orElse(null);
            if (url != null) {
                uploads.reused = true;
            } else {
                url = postBinary(context, planned, http, base);
                if (url != null) {
                    uploaded.record(context.message().id(), recipient, binaryId, base, form, url);
                    uploads.recorded = true;
                }
            }
            Attachment attachment = payload.hasContentAttachment() ? payload.getContentAttachment()
                    : new Attachment().setContentType(planned.meta().contentType());
            attachment.setUrl(url);
            attachment.setData(null);
            attachment.setSize((int) Math.min(planned.meta().size(), Integer.MAX_VALUE));
            if (planned.meta().sha1Base64() != null) {
                attachment.setHash(Base64.getDecoder().decode(planned.meta().sha1Base64()));
            }
            if (planned.enveloped()) {
                attachment.addExtension(RecipientAttachments.EXT_ENVELOPE, new CodeType(RecipientAttachments.PKCS7_MIME));
            }
            payload.setContent(attachment);
        }
        return out;
    }

    /**
     * References inside the contained resources (an ORU's Observations, the patient) must not carry
     * CareRelay's internal ids, which a recipient cannot resolve and a strict server refuses: one to
     * the message's patient becomes {@code #patient}; any other reference to a resource here (not
     * delivered) keeps only its identifier and display (the resource type as display where it has
     * neither). References within the message ({@code #...}) and absolute URLs stay.
     */
    private void repointContainedReferences(Communication out, String subjectPatient) {
        String localSubject = subjectPatient == null ? null : "Patient/" + subjectPatient;
        FhirTerser terser = clientContext.newTerser();
        for (Resource contained : out.getContained()) {
            for (Reference reference : terser.getAllPopulatedChildElementsOfType(contained, Reference.class)) {
                String value = reference.getReference();
                if (value == null || value.startsWith("#") || value.contains("://") || value.startsWith("urn:")) {
                    continue;
                }
                IdType target = new IdType(value);
                if (localSubject != null && localSubject.equals(target.toUnqualifiedVersionless().getValue())) {
                    reference.setReference("#" + CONTAINED_PATIENT);
                    continue;
                }
                reference.setReference(null);
                reference.setType(null);
                if (!reference.hasDisplay() && !reference.hasIdentifier()) {
                    reference.setDisplay(target.hasResourceType() ? target.getResourceType() : "not shared");
                }
            }
        }
    }

    /** Our organisation ids mean nothing to the recipient: refer by Telematik-ID, else IK number, else BSNR, and name. */
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
     * streamed in chunks. The stored object is verified before its first byte leaves; if it does
     * not verify, the request is aborted (the final chunk is never sent, so no complete body reaches
     * the recipient) and the integrity failure is rethrown.
     *
     * @return {@code Binary/<id>} as the recipient named it
     */
    private String postBinary(DeliveryAttempt.Context context, RecipientAttachments.Planned planned, CloseableHttpClient http,
            String base) {
        HttpPost post = new HttpPost(base + "/Binary");
        post.setHeader("Content-Type", planned.contentType());
        post.setHeader("Accept", "application/fhir+json");
        forEachHeader(context.endpoint(), post::addHeader);
        AbstractHttpEntity body = new AbstractHttpEntity() {
            @Override
            public boolean isRepeatable() {
                return false;
            }

            @Override
            public long getContentLength() {
                return -1;
            }

            @Override
            public InputStream getContent() {
                throw new UnsupportedOperationException("written, not read");
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                recipientAttachments.write(planned, out);
            }

            @Override
            public boolean isStreaming() {
                return true;
            }
        };
        body.setChunked(true);
        body.setContentType(planned.contentType());
        post.setEntity(body);
        try (CloseableHttpResponse response = http.execute(post)) {
            int status = response.getStatusLine().getStatusCode();
            EntityUtils.consumeQuietly(response.getEntity());
            if (status / 100 != 2) {
                throw BaseServerResponseException.newInstance(status, "Binary upload answered HTTP " + status);
            }
            Header location = response.getFirstHeader("Location");
            if (location == null || location.getValue() == null || !location.getValue().contains("Binary/")) {
                return null;
            }
            return "Binary/" + location.getValue().replaceAll(".*Binary/([^/]+).*", "$1");
        } catch (IOException e) {
            throw new FhirClientConnectionException("Binary upload failed: " + rootMessage(e), e);
        }
    }

    /** The endpoint's {@code header} entries ({@code Name: value}), to be sent with every request. */
    private static void forEachHeader(Endpoint endpoint, BiConsumer<String, String> action) {
        for (var header : endpoint.getHeader()) {
            String value = header.getValue();
            int colon = value == null ? -1 : value.indexOf(':');
            if (colon > 0) {
                action.accept(value.substring(0, colon).trim(), value.substring(colon + 1).trim());
            }
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
