package org.carerelay.gateway.directory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.routes.crypto.ContentCipher;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.StringType;
import org.springframework.stereotype.Component;

/**
 * {@code Endpoint.header} holds a partner system's credentials ({@code Authorization: Bearer …}).
 * At rest every entry is encrypted with the data key (AES-256-GCM, bound to the endpoint's id), in
 * the current version and in the history. On the API nobody gets a value back: the managing
 * organisation and the operator see each entry as {@code Name: ****}, everyone else sees no
 * header at all. Writing {@code Name: ****} back keeps the stored value of that header; any other
 * value replaces it; an entry left out is removed. Only a delivery reads the plaintext.
 */
@Component
public class EndpointSecrets {

    /** Prefix of a stored (encrypted) entry: version, then base64 of the ciphertext. */
    static final String SEALED_PREFIX = "carerelay-sealed:v1:";
    public static final String MASK = "****";
    private static final Pattern MASKED = Pattern.compile("\\s*([^:]+?)\\s*:\\s*\\*{4}\\s*");

    private final ContentCipher cipher;

    public EndpointSecrets(ContentCipher cipher) {
        this.cipher = cipher;
    }

    public static boolean isSealed(String value) {
        return value != null && value.startsWith(SEALED_PREFIX);
    }

    /**
     * Encrypts the header entries of {@code endpoint} (its id must be set) for storage.
     * {@code stored} is the version in the database, or {@code null}: masked entries take its
     * value, sealed entries are kept only if they are exactly one of its entries.
     *
     * @throws GatewayException {@code invalid-resource} for a masked entry with no stored value
     *         of that name, or a sealed value the gateway did not store
     */
    public void seal(Endpoint endpoint, Endpoint stored) {
        String id = endpoint.getIdElement().getIdPart();
        List<String> storedSealed = stored == null ? List.of()
                : stored.getHeader().stream().map(StringType::getValue).filter(EndpointSecrets::isSealed).toList();
        List<StringType> sealed = new ArrayList<>();
        for (StringType header : endpoint.getHeader()) {
            String value = header.getValue();
            if (value == null || value.isBlank()) {
                continue;
            }
            if (isSealed(value)) {
                if (!storedSealed.contains(value)) {
                    throw new GatewayException(ErrorCode.INVALID_RESOURCE, "Endpoint.header holds a value the gateway did not store.");
                }
                sealed.add(new StringType(value));
                continue;
            }
            Matcher masked = MASKED.matcher(value);
            if (masked.matches()) {
                String name = masked.group(1);
                String kept = storedSealed.stream().filter(s -> name.equalsIgnoreCase(nameOf(open(id, s)))).findFirst()
                        .orElseThrow(() -> new GatewayException(ErrorCode.INVALID_RESOURCE,
                                "Endpoint.header '" + name + ": " + MASK + "' keeps a stored value, but none of that name is stored;"
                                        + " send the full header to set it."));
                sealed.add(new StringType(kept));
                continue;
            }
            sealed.add(new StringType(seal(id, value)));
        }
        endpoint.setHeader(sealed);
    }

    /** The endpoint with its header entries in plaintext, for a delivery (never for the API). */
    public Endpoint reveal(Endpoint endpoint) {
        Endpoint copy = endpoint.copy();
        String id = endpoint.getIdElement().getIdPart();
        List<StringType> plain = new ArrayList<>();
        for (StringType header : endpoint.getHeader()) {
            String value = header.getValue();
            plain.add(new StringType(isSealed(value) ? open(id, value) : value));
        }
        copy.setHeader(plain);
        return copy;
    }

    /**
     * What an API caller sees of the headers: {@code Name: ****} for the managing organisation and
     * the operator ({@code mayManage}), nothing for everyone else. Changes {@code endpoint}.
     */
    public Endpoint forApi(Endpoint endpoint, boolean mayManage) {
        if (!mayManage) {
            endpoint.getHeader().clear();
            return endpoint;
        }
        String id = endpoint.getIdElement().getIdPart();
        List<StringType> masked = new ArrayList<>();
        for (StringType header : endpoint.getHeader()) {
            String value = header.getValue();
            String name = nameOf(isSealed(value) ? open(id, value) : value);
            masked.add(new StringType((name == null ? "" : name + ": ") + MASK));
        }
        endpoint.setHeader(masked);
        return endpoint;
    }

    String seal(String endpointId, String plaintext) {
        byte[] sealed = cipher.encrypt(plaintext.getBytes(StandardCharsets.UTF_8), associatedData(endpointId));
        return SEALED_PREFIX + Base64.getEncoder().encodeToString(sealed);
    }

    private String open(String endpointId, String sealedValue) {
        byte[] sealed = Base64.getDecoder().decode(sealedValue.substring(SEALED_PREFIX.length()));
        return new String(cipher.decrypt(sealed, associatedData(endpointId)), StandardCharsets.UTF_8);
    }

    private static byte[] associatedData(String endpointId) {
        return ("Endpoint/" + endpointId + "#header").getBytes(StandardCharsets.UTF_8);
    }

    /** {@code Authorization} of {@code Authorization: Bearer …}; null without a colon. */
    static String nameOf(String header) {
        int colon = header == null ? -1 : header.indexOf(':');
        if (colon <= 0) {
            return null;
        }
        String name = header.substring(0, colon).trim();
        return name.isEmpty() ? null : name;
    }
}
