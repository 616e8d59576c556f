package org.carerelay.gateway.config;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * The gateway's public address, one setting for every link it hands out: the FHIR base in
 * responses (Location, paging links), in notification mails and in registration and invitation
 * letters. {@code carerelay.public-base-url} ({@code CARERELAY_PUBLIC_BASE_URL}) is the address
 * partners reach the gateway at, e.g. {@code https://carerelay.example.org}; the FHIR base is that
 * plus {@code /fhir}. Unset, links name {@code http://localhost:<HTTP port>/fhir} (the port the
 * server listens on) and FHIR responses keep deriving their base from the request.
 *
 * <p>The two older settings that named the FHIR base itself, {@code carerelay.fhir.public-base-url}
 * and {@code carerelay.notification.base-url}, still apply when the new one is unset (deprecated).
 */
@Component
public class PublicUrls {

    private static final Logger LOG = LoggerFactory.getLogger(PublicUrls.class);
    /** Read here rather than in {@link CareRelayProperties}: the one setting that is not grouped. */
    static final String PROPERTY = "carerelay.public-base-url";

    private final Optional<String> configuredFhirBase;
    private final Environment env;
    private volatile String listeningPort;

    public PublicUrls(CareRelayProperties props, Environment env) {
        this.env = env;
        String publicBaseUrl = env.getProperty(PROPERTY);
        this.configuredFhirBase = configuredFhirBase(publicBaseUrl,
                props.fhir() == null ? null : props.fhir().publicBaseUrl(),
                props.notification() == null ? null : props.notification().baseUrl());
        if (isSet(publicBaseUrl)) {
            return;
        }
        if (props.fhir() != null && isSet(props.fhir().publicBaseUrl())) {
            LOG.warn("carerelay.fhir.public-base-url (CARERELAY_FHIR_PUBLIC_BASE_URL) is deprecated: set "
                    + "carerelay.public-base-url (CARERELAY_PUBLIC_BASE_URL) to the address without /fhir");
        } else if (props.notification() != null && isSet(props.notification().baseUrl())) {
            LOG.warn("carerelay.notification.base-url (CARERELAY_NOTIFICATION_BASE_URL) is deprecated: set "
                    + "carerelay.public-base-url (CARERELAY_PUBLIC_BASE_URL) to the address without /fhir");
        }
    }

    /**
     * The FHIR base an operator configured: {@code publicBaseUrl + "/fhir"}, else one of the
     * deprecated settings (already a FHIR base); empty when none is set.
     */
    static Optional<String> configuredFhirBase(String publicBaseUrl, String legacyFhirBase, String legacyNotificationBase) {
        if (isSet(publicBaseUrl)) {
            String base = trim(publicBaseUrl);
            return Optional.of(base.endsWith("/fhir") ? base : base + "/fhir");
        }
        if (isSet(legacyFhirBase)) {
            return Optional.of(trim(legacyFhirBase));
        }
        if (isSet(legacyNotificationBase)) {
            return Optional.of(trim(legacyNotificationBase));
        }
        return Optional.empty();
    }

    /** The FHIR base set by the operator, if any (the FHIR server then uses it in every response). */
    public Optional<String> configuredFhirBase() {
        return configuredFhirBase;
    }

    /** The FHIR base for links in mails and letters, without a trailing slash. */
    public String fhirBase() {
        return configuredFhirBase.orElseGet(() -> "http://localhost:" + httpPort() + "/fhir");
    }

    /**
     * The web inbox's base for links in mails and letters, without a trailing slash: the public
     * base URL (the FHIR base without {@code /fhir}), else {@code http://localhost:<HTTP port>}.
     */
    public String webBase() {
        String fhir = fhirBase();
        return fhir.endsWith("/fhir") ? fhir.substring(0, fhir.length() - "/fhir".length()) : fhir;
    }

    /** A link to {@code path} (starting with {@code /}) in the web inbox. */
    public String webLink(String path) {
        return webBase() + path;
    }

    /**
     * The port the HTTP server listens on (known once it has started, then kept: a lookup in the
     * environment walks every property source, and every notification asks), else the configured one.
     */
    private String httpPort() {
        String port = listeningPort;
        if (port == null) {
            port = env.getProperty("local.server.port");
            if (port == null) {
                return env.getProperty("server.port", "8080");
            }
            listeningPort = port;
        }
        return port;
    }

    private static boolean isSet(String value) {
        return value != null && !value.isBlank();
    }

    private static String trim(String url) {
        return url.strip().replaceAll("/+$", "");
    }
}
