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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import java.util.Enumeration;
import java.util.Locale;
import java.util.Set;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Guards the FHIR endpoint before HAPI parses anything: bodies over the configured size get a 413,
 * XML bodies with a DOCTYPE or entity declaration (XXE, billion laughs) a 400, NUL or a lone
 * surrogate in the path, a query or form parameter, a header or the body a 400
 * ({@code invalid-character}), bodies with more elements, longer lists or deeper nesting than
 * {@link InputShape} allows a 413 ({@code resource-too-complex}). The body is read once, bounded,
 * and handed on from memory. Runs before the attachment filter, which streams raw uploads itself.
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
        InputShape.Violation violation = checkPathQueryAndHeaders(request);
        if (violation != null) {
            reject(request, response, violation.code(), violation.message());
            return;
        }
        String method = request.getMethod();
        if (!("POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method)) || isRawBinaryUpload(request)) {
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
        violation = checkBody(request.getContentType(), body);
        if (violation != null) {
            reject(request, response, violation.code(), violation.message());
            return;
        }
        boolean emptyOperationBody = isOperation(request) && isBlank(body) && isFhirBodyType(request.getContentType());
        chain.doFilter(new CachedBodyRequest(request, body, emptyOperationBody), response);
    }

    /** {@code POST …/$name}: an operation call, whose parameters may all be absent. */
    private static boolean isOperation(HttpServletRequest request) {
        String path = request.getRequestURI();
        int slash = path.lastIndexOf('/');
        return path.startsWith("$", slash + 1) || path.startsWith("%24", slash + 1);
    }

    private static boolean isFhirBodyType(String contentType) {
        return contentType != null
                && FHIR_BODY_TYPES.contains(contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT));
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
    }

    /** NUL and lone surrogates in the path, a query parameter or a header never reach HAPI or the database. */
    static InputShape.Violation checkPathQueryAndHeaders(HttpServletRequest request) {
        try {
            if (InputShape.hasForbiddenCharacter(URLDecoder.decode(request.getRequestURI().replace("+", "%2B"),
                    StandardCharsets.UTF_8))) {
                return InputShape.forbiddenCharacterIn("path");
            }
            InputShape.Violation query = checkForm(request.getQueryString(), "query parameter");
            if (query != null) {
                return query;
            }
        } catch (IllegalArgumentException e) {
            return new InputShape.Violation(ErrorCode.INVALID_REQUEST, "The URL has a malformed percent-encoding.");
        }
        for (Enumeration<String> names = request.getHeaderNames(); names != null && names.hasMoreElements(); ) {
            String name = names.nextElement();
            if (InputShape.hasForbiddenCharacter(name)) {
                return InputShape.forbiddenCharacterIn("header name");
            }
            for (Enumeration<String> values = request.getHeaders(name); values.hasMoreElements(); ) {
                if (InputShape.hasForbiddenCharacter(values.nextElement())) {
                    return InputShape.forbiddenCharacterIn("header " + name);
                }
            }
        }
        return null;
    }

    /**
     * Checks {@code name=value&...} (a query string or a form body) after percent-decoding: the
     * bytes must be UTF-8 (an encoded surrogate, an overlong form or stray bytes would otherwise
     * make the web server's own parameter parsing fail), without NUL, and {@code _id} values must
     * be FHIR ids.
     */
    private static InputShape.Violation checkForm(String form, String what) {
        if (form == null || form.isEmpty()) {
            return null;
        }
        for (String pair : form.split("&")) {
            int eq = pair.indexOf('=');
            String name = decodeStrictly(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decodeStrictly(pair.substring(eq + 1));
            if (name == null || value == null) {
                return new InputShape.Violation(ErrorCode.INVALID_CHARACTER,
                        "A " + what + " is not valid UTF-8 (or encodes a lone surrogate).");
            }
            if (InputShape.hasForbiddenCharacter(name) || InputShape.hasForbiddenCharacter(value)) {
                return InputShape.forbiddenCharacterIn(what);
            }
            if ((name.equals("_id") || name.startsWith("_id:")) && !value.isEmpty()
                    && !Arrays.stream(value.split(",", -1)).allMatch(id -> FHIR_ID.matcher(id).matches())) {
                return new InputShape.Violation(ErrorCode.INVALID_REQUEST,
                        "_id takes resource ids ([A-Za-z0-9-.], at most 64 characters), comma-separated.");
            }
        }
        return null;
    }

    private static final Pattern FHIR_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

    /** Percent-decodes ({@code +} is a space) and decodes the bytes as UTF-8, or null if they are not UTF-8. */
    static String decodeStrictly(String encoded) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(encoded.length());
        for (int i = 0; i < encoded.length(); i++) {
            char c = encoded.charAt(i);
            if (c == '%') {
                if (i + 2 >= encoded.length()) {
                    throw new IllegalArgumentException("incomplete percent-encoding");
                }
                int high = Character.digit(encoded.charAt(i + 1), 16);
                int low = Character.digit(encoded.charAt(i + 2), 16);
                if (high < 0 || low < 0) {
                    throw new IllegalArgumentException("malformed percent-encoding");
                }
                bytes.write(high * 16 + low);
                i += 2;
            } else if (c == '+') {
                bytes.write(' ');
            } else {
                byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(raw, 0, raw.length);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The body checks: XML without DOCTYPE/entities, then characters and shape of JSON, XML and form bodies. */
    static InputShape.Violation checkBody(String contentType, byte[] body) {
        String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT);
        if (XmlGuard.looksLikeXml(contentType, body)) {
            if (XmlGuard.hasForbiddenConstruct(body)) {
                return new InputShape.Violation(ErrorCode.XML_FORBIDDEN_CONSTRUCT,
                        "XML with a DOCTYPE or entity declaration is not accepted.");
            }
            return InputShape.checkXml(body);
        }
        if (type.contains("json") || (type.isEmpty() && startsLikeJson(body))) {
            return InputShape.checkJson(body);
        }
        if (type.startsWith("application/x-www-form-urlencoded")) {
            try {
                return checkForm(new String(body, StandardCharsets.UTF_8), "form parameter");
            } catch (IllegalArgumentException e) {
                return new InputShape.Violation(ErrorCode.INVALID_REQUEST, "The form body has a malformed percent-encoding.");
            }
        }
        return null;
    }

    private static boolean startsLikeJson(byte[] body) {
        for (byte b : body) {
            if (b == '{' || b == '[') {
                return true;
            }
            if (!Character.isWhitespace(b) && b != (byte) 0xEF && b != (byte) 0xBB && b != (byte) 0xBF) {
                return false;
            }
        }
        return false;
    }

    /**
     * A raw attachment upload ({@code POST /fhir/Binary} with the bytes' own content type) is streamed
     * by the attachment filter with its own size limit; it is neither buffered nor parsed here.
     */
    private static boolean isRawBinaryUpload(HttpServletRequest request) {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        String type = request.getContentType();
        if (!"POST".equals(request.getMethod()) || !path.matches("^/fhir/Binary/?$") || type == null) {
            return false;
        }
        String media = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return !FHIR_BODY_TYPES.contains(media);
    }

    private static final Set<String> FHIR_BODY_TYPES = Set.of("application/fhir+json", "application/json+fhir",
            "application/json", "application/fhir+xml", "application/xml+fhir");

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
        String format = formatParameter(request.getQueryString());
        if (format != null) {
            return format.contains("xml");
        }
        return accept != null && accept.contains("xml") && !accept.contains("json");
    }

    /**
     * Whether the client asked for a FHIR resource by name: {@code _format}, or a FHIR media type
     * ({@code application/fhir+json}, {@code application/fhir+xml} and their older spellings) in
     * {@code Accept}. A browser's or curl's {@code Accept} does not count.
     */
    public static boolean asksForFhirResource(HttpServletRequest request) {
        if (formatParameter(request.getQueryString()) != null) {
            return true;
        }
        String accept = request.getHeader("Accept");
        if (accept == null) {
            return false;
        }
        String lower = accept.toLowerCase(Locale.ROOT);
        return lower.contains("application/fhir+") || lower.contains("+fhir");
    }

    /**
     * {@code _format} read from the query string itself: asking the web server for a parameter
     * makes it parse all of them, and a request refused for a malformed one must still get an
     * OperationOutcome.
     */
    private static String formatParameter(String query) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            if (pair.startsWith("_format=")) {
                try {
                    return decodeStrictly(pair.substring("_format=".length()));
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /**
     * Replays the buffered body to HAPI. An operation call with an empty body (e.g. {@code $mark-read}
     * from a client that always sends {@code Content-Type}) is handed on without a Content-Type: it
     * has no parameters, and HAPI would otherwise try to parse nothing as a Parameters resource.
     */
    static final class CachedBodyRequest extends HttpServletRequestWrapper {
        private final byte[] body;
        private final boolean hideContentType;

        CachedBodyRequest(HttpServletRequest request, byte[] body, boolean hideContentType) {
            super(request);
            this.body = body;
            this.hideContentType = hideContentType;
        }

        private boolean isContentType(String name) {
            return hideContentType && "Content-Type".equalsIgnoreCase(name);
        }

        @Override
        public String getContentType() {
            return hideContentType ? null : super.getContentType();
        }

        @Override
        public String getHeader(String name) {
            return isContentType(name) ? null : super.getHeader(name);
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
            return isContentType(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
        }

        @Override
        public Enumeration<String> getHeaderNames() {
            List<String> names = Collections.list(super.getHeaderNames());
            names.removeIf(this::isContentType);
            return Collections.enumeration(names);
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
