package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

class EncryptionCertificatesTest {

    static final Instant NOW = Instant.now();

    static KeyPair rsa(int bits) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(bits);
        return g.generateKeyPair();
    }

    static KeyPair ec() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static X509Certificate certificate(KeyPair key, Boolean ca, Integer keyUsage, Instant from, Instant to) throws Exception {
        X500Name name = new X500Name("CN=Test");
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(System.nanoTime()),
                Date.from(from), Date.from(to), name, key.getPublic());
        if (ca != null) {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        }
        if (keyUsage != null) {
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
        }
        String algorithm = key.getPublic().getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder(algorithm).build(key.getPrivate())));
    }

    @Test
    void usableCertificates_areAccepted_asPemOrDer() throws Exception {
        X509Certificate rsa = certificate(rsa(2048), false, KeyUsage.keyEncipherment, NOW.minusSeconds(60), NOW.plus(Duration.ofDays(30)));
        assertThat(EncryptionCertificates.parse(rsa.getEncoded(), NOW)).isEqualTo(rsa);
        assertThat(EncryptionCertificates.parse(EncryptionCertificates.toPem(rsa).getBytes(StandardCharsets.US_ASCII), NOW)).isEqualTo(rsa);
        X509Certificate ec = certificate(ec(), null, KeyUsage.keyAgreement, NOW.minusSeconds(60), NOW.plus(Duration.ofDays(30)));
        assertThat(EncryptionCertificates.parse(ec.getEncoded(), NOW)).isEqualTo(ec);
    }

    @Test
    void selfSignedWithCaTrueAndNoKeyUsage_likeOpensslReqX509_isAccepted() throws Exception {
        X509Certificate selfSigned = certificate(rsa(2048), true, null, NOW.minusSeconds(60), NOW.plus(Duration.ofDays(30)));
        assertThat(EncryptionCertificates.parse(selfSigned.getEncoded(), NOW)).isEqualTo(selfSigned);
    }

    @Test
    void unusableCertificates_areRefusedWithAReason() throws Exception {
        KeyPair key = rsa(2048);
        assertRefused(certificate(key, true, KeyUsage.keyCertSign | KeyUsage.cRLSign, NOW.minusSeconds(60), NOW.plusSeconds(3600)),
                "keyEncipherment");
        assertRefused(certificate(ec(), false, KeyUsage.digitalSignature, NOW.minusSeconds(60), NOW.plusSeconds(3600)), "keyAgreement");
        assertRefused(certificate(key, false, null, NOW.minus(Duration.ofDays(60)), NOW.minus(Duration.ofDays(1))), "expired");
        assertRefused(certificate(key, false, null, NOW.plus(Duration.ofDays(1)), NOW.plus(Duration.ofDays(60))), "not valid before");
        assertRefused(certificate(rsa(1024), false, null, NOW.minusSeconds(60), NOW.plusSeconds(3600)), "2048");
        assertThatThrownBy(() -> EncryptionCertificates.parse("kein Zertifikat".getBytes(StandardCharsets.UTF_8), NOW))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PEM");
        assertThatThrownBy(() -> EncryptionCertificates.parse(new byte[0], NOW)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertRefused(X509Certificate certificate, String reason) {
        assertThatThrownBy(() -> EncryptionCertificates.parse(certificate.getEncoded(), NOW))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(reason);
    }
}
