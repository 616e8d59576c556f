package org.carerelay.gateway.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Guards the FHIR endpoint before HAPI parses anything: bodies over the configured size get a 413,
 * XML bodies with a DOCTYPE or entity declaration (XXE, billion laughs) a 400. The body is read
 * once, bounded, and handed on from memory.
 */
public class RequestGuardFilter extends OncePerRequestFilter {

    private final FhirContext fhirContext;
    private final long maxBytes;

    public RequestGuardFilter(FhirContext fhirContext, long maxBytes) {
        this.fhirContext = fhirContext;
        this.maxBytes = maxBytes;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String method = request.getMethod();
        if (!("POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method))) {
            chain.doFilter(request, response);
            return;
        }
        long declared = request.getContentLengthLong();
        if (declared > maxBytes) {
            reject(request, response, ErrorCode.PAYLOAD_TOO_LARGE,
                    "The request body has " + declared + " bytes; the limit is " + maxBytes + ".");
            return;
        }
        byte[] body = readBounded(request.getInputStream(), maxBytes);
        if (body == null) {
            reject(request, response, ErrorCode.PAYLOAD_TOO_LARGE, "The request body exceeds the limit of " + maxBytes + " bytes.");
            return;
        }
        if (XmlGuard.looksLikeXml(request.getContentType(), body) && XmlGuard.hasForbiddenConstruct(body)) {
            reject(request, response, ErrorCode.XML_FORBIDDEN_CONSTRUCT,
                    "XML with a DOCTYPE or entity declaration is not accepted.");
            return;
        }
        chain.doFilter(new CachedBodyRequest(request, body), response);
    }

    private static byte[] readBounded(InputStream in, long max) throws IOException {
        byte[] data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        return data.length > max ? null : data;
    }

    private void reject(HttpServletRequest request, HttpServletResponse response, ErrorCode code, String message)
            throws IOException {
        boolean xml = wantsXml(request);
        IParser parser = xml ? fhirContext.newXmlParser() : fhirContext.newJsonParser();
        response.setStatus(code.httpStatus());
        response.setCharacterEncoding("UTF-8");
        response.setContentType(xml ? "application/fhir+xml" : "application/fhir+json");
        if (code == ErrorCode.PAYLOAD_TOO_LARGE) {
            response.setHeader("Connection", "close");
        }
        response.getWriter().write(parser.encodeResourceToString(OperationOutcomes.of(code, message)));
    }

    /** Whether an answer of the gateway's own (an OperationOutcome) should be XML rather than JSON. */
    public static boolean wantsXml(HttpServletRequest request) {
        String accept = request.getHeader("Accept");
        String format = request.getParameter("_format");
        if (format != null) {
            return format.contains("xml");
        }
        return accept != null && accept.contains("xml") && !accept.contains("json");
    }

    /** Replays the buffered body to HAPI. */
    static final class CachedBodyRequest extends HttpServletRequestWrapper {
        private final byte[] body;

        CachedBodyRequest(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            String enc = getCharacterEncoding();
            Charset charset = enc == null ? StandardCharsets.UTF_8 : Charset.forName(enc);
            return new BufferedReader(new InputStreamReader(getInputStream(), charset));
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }
    }
}
