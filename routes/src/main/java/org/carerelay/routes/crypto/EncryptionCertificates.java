package org.carerelay.routes.crypto;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;

/**
 * Checks a participant's encryption certificate (PEM or DER): exactly one X.509 certificate,
 * valid now, an RSA key of at least 2048 bits or an EC key on P-256/P-384/P-521, and, where the
 * certificate restricts key usage, usable for key transport (RSA) or key agreement (EC).
 */
public final class EncryptionCertificates {

    private EncryptionCertificates() {
    }

    /** @throws IllegalArgumentException with a message fit for the participant */
    public static X509Certificate parse(byte[] pemOrDer, Instant now) {
        if (pemOrDer == null || pemOrDer.length == 0) {
            throw new IllegalArgumentException("The certificate is empty.");
        }
        Collection<? extends Certificate> certificates;
        try {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pemOrDer));
        } catch (CertificateException | RuntimeException e) {
            throw new IllegalArgumentException("The certificate is neither a PEM nor a DER encoded X.509 certificate.");
        }
        if (certificates.size() != 1 || !(certificates.iterator().next() instanceof X509Certificate certificate)) {
            throw new IllegalArgumentException("Exactly one X.509 certificate is expected, found " + certificates.size() + ".");
        }
        check(certificate, now);
        return certificate;
    }

    /** Validity and key checks for an already parsed certificate. */
    public static void check(X509Certificate certificate, Instant now) {
        Date at = Date.from(now);
        if (at.before(certificate.getNotBefore())) {
            throw new IllegalArgumentException("The certificate is not valid before " + certificate.getNotBefore().toInstant() + ".");
        }
        if (at.after(certificate.getNotAfter())) {
            throw new IllegalArgumentException("The certificate expired on " + certificate.getNotAfter().toInstant() + ".");
        }
        // CA:TRUE alone is no reason to refuse: `openssl req -x509` sets it on every self-signed
        // certificate. A real CA certificate restricts its key usage to signing certificates and
        // fails the key usage check below.
        PublicKey key = certificate.getPublicKey();
        boolean[] usage = certificate.getKeyUsage();
        if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() < 2048) {
                throw new IllegalArgumentException("RSA keys need at least 2048 bits.");
            }
            if (usage != null && !usage[2]) {
                throw new IllegalArgumentException("The certificate's key usage does not allow keyEncipherment.");
            }
        } else if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            if (bits != 256 && bits != 384 && bits != 521) {
                throw new IllegalArgumentException("EC keys must be on P-256, P-384 or P-521.");
            }
            if (usage != null && !usage[4]) {
                throw new IllegalArgumentException("The certificate's key usage does not allow keyAgreement.");
            }
        } else {
            throw new IllegalArgumentException("Only RSA and EC keys are supported, not " + key.getAlgorithm() + ".");
        }
    }

    public static String toPem(X509Certificate certificate) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }
}
