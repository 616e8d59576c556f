package org.carerelay.gateway.attachment;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.rest.server.IServerAddressStrategy;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.fhir.PreferReturn;
import org.carerelay.gateway.fhir.RequestGuardFilter;
import org.carerelay.gateway.infra.Outages;
import org.carerelay.gateway.infra.SafeExceptions;
import org.carerelay.gateway.security.AuthenticationInterceptor;
import org.carerelay.gateway.security.Caller;
import org.carerelay.routes.crypto.EncryptionCertificates;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.IdType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Attachments as streams, in front of HAPI (which would hold a whole body in memory):
 * {@code POST /fhir/Binary} with the raw bytes and their Content-Type, and
 * {@code GET /fhir/Binary/{id}} for the raw bytes or, with {@code Accept: application/pkcs7-mime},
 * the CMS envelope for the caller's registered encryption certificate. FHIR-format requests
 * (a Binary resource in JSON or XML, {@code _format}) go on to HAPI.
 */
public class BinaryStreamingFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(BinaryStreamingFilter.class);
    static final String PKCS7 = "application/pkcs7-mime";
    private static final Pattern READ = Pattern.compile("^/fhir/Binary/([A-Za-z0-9\\-.]{1,64})(?:/_history/1)?/?$");
    private static final Set<String> FHIR_TYPES = Set.of("application/fhir+json", "application/json+fhir", "application/json",
            "application/fhir+xml", "application/xml+fhir");

    private final AttachmentService attachments;
    private final AuthenticationInterceptor authentication;
    private final AuditService audit;
    private final DirectoryService directory;
    private final FhirContext fhirContext;
    /** The FHIR servlet's own: the configured public base URL, or the one the request came in on. */
    private final IServerAddressStrategy addresses;

    public BinaryStreamingFilter(AttachmentService attachments, AuthenticationInterceptor authentication,
            AuditService audit, DirectoryService directory, FhirContext fhirContext, IServerAddressStrategy addresses) {
        this.attachments = attachments;
        this.authentication = authentication;
        this.audit = audit;
        this.directory = directory;
        this.fhirContext = fhirContext;
        this.addresses = addresses;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        try {
            if ("POST".equals(request.getMethod()) && path.matches("^/fhir/Binary/?$") && isRawUpload(request)) {
                upload(request, response);
                return;
            }
            Matcher read = READ.matcher(path);
            if ("GET".equals(request.getMethod()) && read.matches() && wantsRaw(request)) {
                download(read.group(1), request, response);
                return;
            }
        } catch (GatewayException e) {
            fail(request, response, e.errorCode(), e.getMessage());
            return;
        } catch (ResourceNotFoundException e) {
            fail(request, response, ErrorCode.NOT_FOUND, "Binary is not known or not visible to you.");
            return;
        } catch (RuntimeException e) {
            if (Outages.isTransient(e)) {
                throw e; // the database is unreachable: OutageFilter answers 503 with Retry-After
            }
            // an OperationOutcome, details only in the log
            log.error("Attachment request failed: {}", SafeExceptions.describe(e));
            fail(request, response, ErrorCode.INTERNAL_ERROR, ErrorCode.INTERNAL_ERROR.defaultText());
            return;
        }
        chain.doFilter(request, response);
    }

    private void upload(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String address = request.getRemoteAddr();
        Caller caller = authentication.authenticate(request.getHeader("Authorization"), address, request.getRequestURI(), response);
        if (!caller.isParticipant()) {
            throw new GatewayException(ErrorCode.FORBIDDEN, "Only registered participants upload attachments.");
        }
        AttachmentService.Stored stored;
        try {
            attachments.allowedType(request.getContentType());
            attachments.checkDeclaredLength(request.getContentLengthLong());
            stored = attachments.store(request.getContentType(), request.getInputStream(), caller.organizationId(), null);
        } catch (GatewayException e) {
            audit.failure("attachment-upload", AuditEventAction.C, caller, address, null, e.errorCode().code());
            throw e;
        }
        audit.success("attachment-upload", AuditEventAction.C, caller, address, "Binary/" + stored.id());
        Binary result = new Binary();
        result.setId(new IdType("Binary", stored.id(), "1"));
        result.getMeta().setVersionId("1");
        result.setContentType(stored.contentType());
        response.setStatus(HttpServletResponse.SC_CREATED);
        response.setHeader("Location", base(request) + "/Binary/" + stored.id() + "/_history/1");
        response.setHeader("ETag", "W/\"1\"");
        switch (PreferReturn.of(request.getHeader("Prefer"))) {
            case MINIMAL -> response.setContentLength(0);
            case OPERATION_OUTCOME -> writeResource(request, response, PreferReturn.outcome("Created Binary/" + stored.id() + "/_history/1."));
            case REPRESENTATION -> writeResource(request, response, result);
        }
    }

    private void download(String id, HttpServletRequest request, HttpServletResponse response) throws IOException {
        String address = request.getRemoteAddr();
        Caller caller = authentication.authenticate(request.getHeader("Authorization"), address, request.getRequestURI(), response);
        if (!caller.isParticipant() || !attachments.canRead(id, caller.organizationId())) {
            audit.failure("attachment-read", AuditEventAction.R, caller, address, "Binary/" + id, "not visible");
            throw new ResourceNotFoundException(new IdType("Binary", id));
        }
        AttachmentService.Meta meta = attachments.requireMeta(id);
        String reader = caller.auditName();
        if (accepts(request, PKCS7)) {
            X509Certificate certificate = directory.encryptionCertificate(caller.organizationId())
                    .orElseThrow(() -> new GatewayException(ErrorCode.ENCRYPTION_CERTIFICATE_MISSING,
                            "Register an encryption certificate ($encryption-certificate) to receive envelopes."));
            try {
                EncryptionCertificates.check(certificate, Instant.now());
            } catch (IllegalArgumentException e) {
                throw new GatewayException(ErrorCode.ENCRYPTION_CERTIFICATE_MISSING,
                        "The registered encryption certificate is not usable: " + e.getMessage());
            }
            response.setContentType(PKCS7 + "; smime-type=enveloped-data; name=smime.p7m");
            response.setHeader("Content-Disposition", "attachment; filename=\"" + id + ".p7m\"");
            response.setHeader("X-Content-Type-Options", "nosniff");
            response.setHeader("ETag", "W/\"1\"");
            attachments.writeEnvelope(meta, certificate, new CommitOnWrite(response), reader);
        } else {
            response.setContentType(meta.contentType());
            response.setContentLengthLong(meta.size());
            response.setHeader("X-Content-Type-Options", "nosniff");
            response.setHeader("ETag", "W/\"1\"");
            response.setHeader("Content-Disposition", "attachment");
            attachments.writeVerified(meta, new CommitOnWrite(response), reader);
        }
        audit.success("attachment-read", AuditEventAction.R, caller, address, "Binary/" + id);
    }

    /** Opens the response stream only when the first byte is written, so a failed check can still answer. */
    private static final class CommitOnWrite extends OutputStream {
        private final HttpServletResponse response;
        private OutputStream out;

        CommitOnWrite(HttpServletResponse response) {
            this.response = response;
        }

        private OutputStream out() throws IOException {
            if (out == null) {
                out = response.getOutputStream();
            }
            return out;
        }

        @Override
        public void write(int b) throws IOException {
            out().write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out().write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            if (out != null) {
                out.flush();
            }
        }
    }

    /** Raw upload: any Content-Type but a FHIR resource format. */
    static boolean isRawUpload(HttpServletRequest request) {
        String type = request.getContentType();
        if (type == null) {
            return false;
        }
        return !FHIR_TYPES.contains(mediaType(type));
    }

    /** Raw read unless a FHIR format is asked for ({@code _format}, or an Accept naming FHIR JSON/XML). */
    static boolean wantsRaw(HttpServletRequest request) {
        if (request.getParameter("_format") != null) {
            return false;
        }
        String accept = request.getHeader("Accept");
        if (accept == null) {
            return true;
        }
        for (String part : accept.split(",")) {
            String type = mediaType(part);
            if (FHIR_TYPES.contains(type) || "application/xml".equals(type)) {
                return false;
            }
        }
        return true;
    }

    static boolean accepts(HttpServletRequest request, String type) {
        String accept = request.getHeader("Accept");
        if (accept == null) {
            return false;
        }
        for (String part : accept.split(",")) {
            if (type.equals(mediaType(part))) {
                return true;
            }
        }
        return false;
    }

    private static String mediaType(String value) {
        int semicolon = value.indexOf(';');
        return (semicolon < 0 ? value : value.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
    }

    private String base(HttpServletRequest request) {
        return addresses.determineServerBase(request.getServletContext(), request).replaceAll("/+$", "");
    }

    private void writeResource(HttpServletRequest request, HttpServletResponse response, IBaseResource resource)
            throws IOException {
        boolean xml = RequestGuardFilter.wantsXml(request);
        IParser parser = xml ? fhirContext.newXmlParser() : fhirContext.newJsonParser();
        response.setCharacterEncoding("UTF-8");
        response.setContentType(xml ? "application/fhir+xml" : "application/fhir+json");
        response.getWriter().write(parser.encodeResourceToString(resource));
    }

    private void fail(HttpServletRequest request, HttpServletResponse response, ErrorCode code, String message)
            throws IOException {
        if (response.isCommitted()) {
            log.warn("Attachment response failed after it was committed: {}", code.code());
            throw new IOException("response aborted: " + code.code());
        }
        response.reset();
        response.setStatus(code.httpStatus());
        if (code == ErrorCode.PAYLOAD_TOO_LARGE || "POST".equals(request.getMethod())) {
            // the rest of an unread upload is not worth swallowing
            response.setHeader("Connection", "close");
        }
        if (code.httpStatus() == 401) {
            response.setHeader("WWW-Authenticate", "Bearer realm=\"carerelay\"");
        }
        writeResource(request, response, OperationOutcomes.of(code, message));
    }
}
