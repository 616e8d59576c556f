package org.carerelay.gateway.hl7;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collections;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.mllp.MllpInboundRoute;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The second MLLP listener, with mutual TLS (port 2576 by default), on when
 * {@code carerelay.hl7.tls.enabled=true} — independent of {@code carerelay.hl7.enabled}, so the
 * plain listener can be switched off and TLS kept. Key and trust stores are read at startup; a
 * missing or unreadable store stops the start with a message naming the setting.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "carerelay.hl7.tls", name = "enabled", havingValue = "true")
public class MllpTlsConfiguration {

    private static final Logger log = LoggerFactory.getLogger(MllpTlsConfiguration.class);

    @Bean
    MllpInboundRoute mllpInboundTlsRoute(CareRelayProperties props) {
        var h = props.hl7();
        var tls = h.tls();
        KeyStore keyStore = keyStore(tls.keystore(), tls.keystorePassword());
        KeyStore trustStore = trustStore(tls.truststore(), tls.truststorePassword());
        log.info("MLLP TLS listener on port {} (client certificates required)", tls.port());
        return new MllpInboundRoute("mllp-inbound-tls", Hl7InboundRoute.ENDPOINT, MllpInboundConfiguration.settings(h, tls.port()),
                MllpInboundRoute.mutualTls(keyStore, password(tls.keystorePassword()), trustStore));
    }

    /** The server key and certificate: a PKCS#12 file with exactly the password given. */
    static KeyStore keyStore(String path, String password) {
        Path file = file(path, "carerelay.hl7.tls.keystore (CARERELAY_HL7_TLS_KEYSTORE)");
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password(password).toCharArray());
            boolean hasKey = false;
            for (String alias : Collections.list(store.aliases())) {
                hasKey |= store.isKeyEntry(alias);
            }
            if (!hasKey) {
                throw new IllegalStateException("carerelay.hl7.tls.keystore: " + file + " holds no private key");
            }
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("carerelay.hl7.tls.keystore: " + file + " cannot be read as PKCS#12 with "
                    + "carerelay.hl7.tls.keystore-password: " + e.getMessage(), e);
        }
    }

    /** The CA certificates that issue client certificates: PEM (one or more certificates) or PKCS#12. */
    static KeyStore trustStore(String path, String password) {
        Path file = file(path, "carerelay.hl7.tls.truststore (CARERELAY_HL7_TLS_TRUSTSTORE)");
        try {
            byte[] bytes = Files.readAllBytes(file);
            KeyStore store = KeyStore.getInstance("PKCS12");
            if (new String(bytes, 0, Math.min(bytes.length, 4096), StandardCharsets.ISO_8859_1).contains("-----BEGIN")) {
                store.load(null, null);
                int n = 0;
                for (Certificate certificate : CertificateFactory.getInstance("X.509")
                        .generateCertificates(new ByteArrayInputStream(bytes))) {
                    store.setCertificateEntry("ca-" + (++n), certificate);
                }
            } else {
                String p = password(password);
                store.load(new ByteArrayInputStream(bytes), p.isEmpty() ? null : p.toCharArray());
            }
            boolean hasCertificate = false;
            for (String alias : Collections.list(store.aliases())) {
                hasCertificate |= store.isCertificateEntry(alias);
            }
            if (!hasCertificate) {
                throw new IllegalStateException("carerelay.hl7.tls.truststore: " + file + " holds no trusted certificate");
            }
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("carerelay.hl7.tls.truststore: " + file + " cannot be read as PEM or PKCS#12 with "
                    + "carerelay.hl7.tls.truststore-password: " + e.getMessage(), e);
        }
    }

    private static Path file(String path, String setting) {
        if (path == null || path.isBlank()) {
            throw new IllegalStateException(setting + " must be set when carerelay.hl7.tls.enabled=true");
        }
        Path file = Path.of(path.trim());
        if (!Files.isReadable(file)) {
            throw new IllegalStateException(setting + ": " + file + " is not a readable file");
        }
        return file;
    }

    private static String password(String password) {
        return password == null ? "" : password;
    }
}
