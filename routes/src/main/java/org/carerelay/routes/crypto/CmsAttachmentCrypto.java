package org.carerelay.routes.crypto;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.CertPath;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertStore;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.crypto.AEADBadTagException;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.esf.SignerAttribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.DirectoryString;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSAuthEnvelopedData;
import org.bouncycastle.cms.CMSAuthEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSAuthEnvelopedDataParser;
import org.bouncycastle.cms.CMSEnvelopedDataParser;
import org.bouncycastle.cms.CMSEnvelopedDataStreamGenerator;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedDataParser;
import org.bouncycastle.cms.CMSSignedDataStreamGenerator;
import org.bouncycastle.cms.CMSTypedStream;
import org.bouncycastle.cms.CMSVerifierCertificateNotValidException;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.KeyAgreeRecipientInformation;
import org.bouncycastle.cms.KeyTransRecipientInformation;
import org.bouncycastle.cms.Recipient;
import org.bouncycastle.cms.RecipientInfoGenerator;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.RecipientInformationStore;
import org.bouncycastle.cms.SignerInfoGenerator;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SignerInformationStore;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyAgreeAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeRecipientInfoGenerator;
import org.bouncycastle.cms.jcajce.JceKeyTransAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.crypto.io.InvalidCipherTextIOException;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.OutputAEADEncryptor;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.operator.jcajce.JcaAlgorithmParametersConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.util.Store;

/**
 * {@link AttachmentCrypto} with Bouncy Castle's streaming CMS classes for the signature and for
 * everything that leaves the gateway, and the JDK's AES-GCM for storage.
 *
 * <p>The signed structure is a ContentInfo(SignedData) with encapsulated content, BER indefinite
 * length. The signature is ECDSA with SHA-256 or RSASSA-PSS with SHA-256; its signed attributes
 * name the organisation in a CAdES signer-attributes attribute (claimed organizationIdentifier and
 * organizationName). Opening checks it and the signer's certificate chain to the gateway CA with
 * the JDK's PKIX {@link CertPathBuilder} and {@link CertPathValidator} at the signing time, without
 * revocation checking (the gateway CA publishes no revocation lists).
 *
 * <p>At rest (written by {@link #seal}): the 4-byte magic {@code CRG1}, the 4-byte big-endian
 * length of a key block, the key block, then the ContentInfo(SignedData) encrypted by
 * {@link ChunkedAesGcm} (1 MiB chunks, fresh nonce each, associated data = object id, chunk index,
 * last-chunk flag) under a random per-object AES-256 key. The key block is a DER CMS
 * AuthEnvelopedData whose content is that key, encrypted to the storage key exactly as the whole
 * object was before: ECDH (dhSinglePass-stdDH-sha256kdf, AES-256 key wrap) for an EC storage key,
 * RSAES-OAEP with SHA-256 for an RSA one.
 *
 * <p>Objects stored before (a ContentInfo(AuthEnvelopedData, AES-256-GCM) whose content is the
 * ContentInfo(SignedData), or an RFC 5652 nested bare SignedData; also what {@code openssl cms
 * -sign | openssl cms -encrypt} produces) are still read, with Bouncy Castle's streaming CMS parser
 * and its own provider instance, which checks the tag at the end of the stream. The provider is
 * never registered globally.
 *
 * <p>Errors: anything that does not parse, decrypt or verify is an {@link IntegrityException};
 * an I/O error of the sealed stream itself is passed on unchanged. An opened attachment releases
 * plaintext before the end is verified (that is what makes it a stream); callers that must not
 * act on unverified bytes read to the end first. Closing it closes the sealed stream. Instances
 * are thread-safe.
 */
public final class CmsAttachmentCrypto implements AttachmentCrypto {

    private static final Provider BC = new BouncyCastleProvider();
    private static final int BUFFER_SIZE = 64 * 1024;
    /** BER header of ContentInfo { id-signedData, [0] { ... } }, for a bare SignedData content. */
    private static final byte[] SIGNED_DATA_CONTENT_INFO_HEADER = {
        0x30, (byte) 0x80, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x07, 0x02, (byte) 0xa0, (byte) 0x80};
    private static final byte[] TWO_END_OF_CONTENTS = {0, 0, 0, 0};
    /** At most this many certificates between the signer and the CA, as before. */
    private static final int MAX_INTERMEDIATES = 7;
    /** Starts an object in the chunked storage format; never the first bytes of a DER or BER ContentInfo (0x30). */
    static final byte[] MAGIC = {'C', 'R', 'G', '1'};
    private static final int MAX_KEY_BLOCK_BYTES = 16 * 1024;
    private static final Set<ASN1ObjectIdentifier> NIST_CURVES =
            Set.of(SECObjectIdentifiers.secp256r1, SECObjectIdentifiers.secp384r1, SECObjectIdentifiers.secp521r1);

    private final GatewayKeys keys;
    private final SecureRandom random = new SecureRandom();
    private final DigestCalculatorProvider digests;
    /** The signing chain and every storage key's certificate in Bouncy Castle's form, converted once. */
    private final X509CertificateHolder signingCertificate;
    private final JcaCertStore signingChain;
    private final List<StorageRecipient> storageRecipients;

    /** A storage key's certificate (to match a recipient info against) and private key. */
    private record StorageRecipient(X509CertificateHolder certificate, PrivateKey privateKey) {
    }

    public CmsAttachmentCrypto(GatewayKeys keys) {
        this.keys = Objects.requireNonNull(keys, "keys");
        try {
            this.digests = new JcaDigestCalculatorProviderBuilder().build();
        } catch (OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
        try {
            this.signingCertificate = new JcaX509CertificateHolder(keys.signingChain().get(0));
            this.signingChain = new JcaCertStore(keys.signingChain());
            List<StorageRecipient> storage = new ArrayList<>();
            for (GatewayKeys.StorageKey key : keys.storageKeys()) {
                storage.add(new StorageRecipient(new JcaX509CertificateHolder(key.certificate()), key.privateKey()));
            }
            this.storageRecipients = List.copyOf(storage);
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("A certificate of the gateway keys cannot be encoded", e);
        }
    }

    @Override
    public String currentStorageKeyId() {
        return keys.currentStorageKey().alias();
    }

    // ------------------------------------------------------------------------------------ seal

    @Override
    public OutputStream seal(OutputStream sink, Origin origin, String objectId) throws IOException {
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(origin.organizationId(), "origin.organizationId");
        Objects.requireNonNull(objectId, "objectId");
        try {
            SignerInfoGenerator signerInfo = signerInfoGenerator(origin);
            KeyGenerator generator = KeyGenerator.getInstance("AES");
            generator.init(256, random);
            SecretKey key = generator.generateKey();
            byte[] keyBlock = keyBlock(key);
            DataOutputStream header = new DataOutputStream(new NonClosingOutputStream(sink));
            header.write(MAGIC);
            header.writeInt(keyBlock.length);
            header.write(keyBlock);
            OutputStream encrypting = ChunkedAesGcm.encrypting(sink, key, objectId.getBytes(StandardCharsets.UTF_8), random);

            CMSSignedDataStreamGenerator signed = new CMSSignedDataStreamGenerator();
            signed.setBufferSize(BUFFER_SIZE);
            signed.addSignerInfoGenerator(signerInfo);
            signed.addCertificates(signingChain);
            OutputStream signing = signed.open(encrypting, true);
            return new SealingOutputStream(signing, encrypting, sink);
        } catch (CMSException | OperatorCreationException | GeneralSecurityException e) {
            throw new IOException("Cannot start sealing: " + e.getMessage(), e);
        }
    }

    private SignerInfoGenerator signerInfoGenerator(Origin origin) throws OperatorCreationException {
        PublicKey publicKey = keys.signingChain().get(0).getPublicKey();
        String algorithm;
        if (publicKey instanceof ECPublicKey) {
            algorithm = "SHA256withECDSA";
        } else if (publicKey instanceof RSAPublicKey || "RSASSA-PSS".equals(publicKey.getAlgorithm())) {
            algorithm = "SHA256withRSAandMGF1";
        } else {
            throw new IllegalStateException("Unsupported signing key type " + publicKey.getAlgorithm());
        }
        ContentSigner signer = new JcaContentSignerBuilder(algorithm).setProvider(BC).setSecureRandom(random).build(keys.signingKey());

        List<org.bouncycastle.asn1.x509.Attribute> claimed = new ArrayList<>();
        claimed.add(new org.bouncycastle.asn1.x509.Attribute(BCStyle.ORGANIZATION_IDENTIFIER,
                new DERSet(new DERUTF8String(origin.organizationId()))));
        if (origin.organizationName() != null) {
            claimed.add(new org.bouncycastle.asn1.x509.Attribute(BCStyle.O, new DERSet(new DERUTF8String(origin.organizationName()))));
        }
        SignerAttribute signerAttribute = new SignerAttribute(claimed.toArray(new org.bouncycastle.asn1.x509.Attribute[0]));
        AttributeTable extra = new AttributeTable(new Attribute(PKCSObjectIdentifiers.id_aa_ets_signerAttr, new DERSet(signerAttribute)));

        return new JcaSignerInfoGeneratorBuilder(digests)
                .setSignedAttributeGenerator(new DefaultSignedAttributeTableGenerator(extra))
                .build(signer, signingCertificate);
    }

    /** ECDH (SHA-256 KDF, AES-256 wrap) for EC keys, RSAES-OAEP (SHA-256, MGF1-SHA-256) for RSA keys. */
    private RecipientInfoGenerator recipientInfoGenerator(X509Certificate recipient) throws GeneralSecurityException {
        PublicKey publicKey = recipient.getPublicKey();
        if (publicKey instanceof ECPublicKey ec) {
            KeyPair ephemeral = ephemeralKeyPair(ec);
            return new JceKeyAgreeRecipientInfoGenerator(CMSAlgorithm.ECDH_SHA256KDF, ephemeral.getPrivate(), ephemeral.getPublic(),
                    CMSAlgorithm.AES256_WRAP)
                    .addRecipient(recipient)
                    .setProvider(BC)
                    .setSecureRandom(random);
        }
        if (publicKey instanceof RSAPublicKey) {
            AlgorithmIdentifier oaep = new JcaAlgorithmParametersConverter().getAlgorithmIdentifier(PKCSObjectIdentifiers.id_RSAES_OAEP,
                    new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
            return new JceKeyTransRecipientInfoGenerator(recipient, oaep).setProvider(BC);
        }
        throw new IllegalArgumentException("Only RSA and EC recipient keys are supported, not " + publicKey.getAlgorithm());
    }

    /**
     * A fresh key pair on the recipient's curve. For P-256, P-384 and P-521 by name (every key the
     * gateway makes), Bouncy Castle's generator, given the curve's name so that the public key is
     * encoded with it (about six times as fast as the JDK's here: a seal's largest fixed cost was
     * this key pair); for any other curve, the JDK's, which takes only the curves it supports.
     */
    private KeyPair ephemeralKeyPair(ECPublicKey recipient) throws GeneralSecurityException {
        ASN1Encodable parameters = SubjectPublicKeyInfo.getInstance(recipient.getEncoded()).getAlgorithm().getParameters();
        KeyPairGenerator generator;
        if (parameters instanceof ASN1ObjectIdentifier curve && NIST_CURVES.contains(curve)) {
            generator = KeyPairGenerator.getInstance("EC", BC);
            generator.initialize(new ECGenParameterSpec(curve.getId()), random);
        } else {
            generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(recipient.getParams(), random);
        }
        return generator.generateKeyPair();
    }

    /** The per-object key as a CMS AuthEnvelopedData for the current storage key. */
    private byte[] keyBlock(SecretKey key) throws CMSException, GeneralSecurityException, IOException {
        CMSAuthEnvelopedDataGenerator generator = new CMSAuthEnvelopedDataGenerator();
        generator.addRecipientInfoGenerator(recipientInfoGenerator(keys.currentStorageKey().certificate()));
        OutputEncryptor encryptor = contentEncryptor(CMSAlgorithm.AES256_GCM);
        if (!(encryptor instanceof OutputAEADEncryptor aead)) {
            throw new IllegalStateException("AES-GCM encryptor is not an AEAD encryptor: " + encryptor.getClass());
        }
        return generator.generate(new CMSProcessableByteArray(key.getEncoded()), aead).getEncoded();
    }

    /** Content encryption with the JDK's provider (AES-NI, CLMUL), falling back to the default lookup. */
    private OutputEncryptor contentEncryptor(ASN1ObjectIdentifier algorithm) throws CMSException {
        JceCMSContentEncryptorBuilder builder = new JceCMSContentEncryptorBuilder(algorithm).setSecureRandom(random);
        Provider sunJce = Security.getProvider("SunJCE");
        if (sunJce != null) {
            builder.setProvider(sunJce);
        }
        return builder.build();
    }

    /** Completes the SignedData, then the AuthEnvelopedData, then closes the sink. */
    private static final class SealingOutputStream extends OutputStream {
        private final OutputStream buffered;
        private final OutputStream encrypting;
        private final OutputStream sink;
        private boolean closed;

        SealingOutputStream(OutputStream signing, OutputStream encrypting, OutputStream sink) {
            this.buffered = new BufferedOutputStream(signing, BUFFER_SIZE);
            this.encrypting = encrypting;
            this.sink = sink;
        }

        @Override
        public void write(int b) throws IOException {
            ensureOpen();
            buffered.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ensureOpen();
            buffered.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            ensureOpen();
            buffered.flush();
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try (sink) {
                buffered.close();   // flushes, completes the SignedData
                encrypting.close(); // writes the last chunk, does not close the sink
            }
        }

        private void ensureOpen() throws IOException {
            if (closed) {
                throw new IOException("Stream closed");
            }
        }
    }

    // ------------------------------------------------------------------------------------ open

    @Override
    public OpenedAttachment open(InputStream sealed, String objectId) throws IOException {
        Objects.requireNonNull(sealed, "sealed");
        Objects.requireNonNull(objectId, "objectId");
        Decrypted decrypted = decrypt(sealed, objectId);
        try {
            CMSSignedDataParser parser = new CMSSignedDataParser(digests, decrypted.contentInfo);
            CMSTypedStream signedContent = parser.getSignedContent();
            if (signedContent == null) {
                throw new IntegrityException("The SignedData has no encapsulated content");
            }
            return new Opened(decrypted, parser, signedContent.getContentStream());
        } catch (CMSException | IOException | RuntimeException e) {
            throw integrityFailure(decrypted.source, "Cannot parse the SignedData", e);
        }
    }

    private final class Opened extends OpenedAttachment {
        private final Decrypted decrypted;
        private final CMSSignedDataParser parser;
        private final InputStream content;
        private Origin origin;
        private IOException failure;
        private boolean ended;
        private boolean closed;

        Opened(Decrypted decrypted, CMSSignedDataParser parser, InputStream content) {
            this.decrypted = decrypted;
            this.parser = parser;
            this.content = content;
        }

        @Override
        public Origin origin() {
            return origin;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n;
            do {
                n = read(one, 0, 1);
            } while (n == 0);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (closed) {
                throw new IOException("Stream closed");
            }
            if (failure != null) {
                throw failure;
            }
            if (ended) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            try {
                int n = content.read(b, off, len);
                if (n >= 0) {
                    return n;
                }
                origin = verifyAtEnd();
                ended = true;
                return -1;
            } catch (CMSException | IOException | RuntimeException e) {
                failure = integrityFailure(decrypted.source, "The attachment does not verify", e);
                throw failure;
            }
        }

        private Origin verifyAtEnd() throws CMSException, IOException {
            SignerInformationStore signers = parser.getSignerInfos();
            @SuppressWarnings("unchecked")
            Store<X509CertificateHolder> certificates = parser.getCertificates();
            // the rest of the plaintext (end of the SignedData); its end makes the cipher check the tag
            drain(decrypted.contentInfo);
            return verifySigners(signers, certificates);
        }

        @Override
        public int available() throws IOException {
            return closed || failure != null || ended ? 0 : Math.max(0, content.available());
        }

        /** Closes the sealed stream this attachment was opened from. */
        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                decrypted.source.close();
            }
        }
    }

    private Origin verifySigners(SignerInformationStore signerStore, Store<X509CertificateHolder> certificateStore)
            throws CMSException, IntegrityException {
        Collection<SignerInformation> signers = signerStore.getSigners();
        if (signers.isEmpty()) {
            throw new IntegrityException("The attachment carries no signature");
        }
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        List<X509CertificateHolder> holders = new ArrayList<>(certificateStore.getMatches(null));
        List<X509Certificate> included = new ArrayList<>();
        try {
            for (X509CertificateHolder holder : holders) {
                included.add(converter.getCertificate(holder));
            }
        } catch (CertificateException e) {
            throw new IntegrityException("The SignedData includes an unreadable certificate", e);
        }
        Origin origin = null;
        for (SignerInformation signer : signers) {
            X509Certificate certificate = null;
            for (int i = 0; i < holders.size() && certificate == null; i++) {
                if (signer.getSID().match(holders.get(i))) {
                    certificate = included.get(i);
                }
            }
            if (certificate == null) {
                throw new IntegrityException("The signer's certificate is not included in the SignedData");
            }
            boolean valid;
            try {
                valid = signer.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider(BC).build(certificate));
            } catch (CMSVerifierCertificateNotValidException e) {
                throw new IntegrityException("The signer's certificate was not valid at the signing time", e);
            } catch (OperatorCreationException e) {
                throw new IntegrityException("Cannot verify the signature: " + e.getMessage(), e);
            } catch (CMSException e) {
                throw new IntegrityException("The signature does not verify: " + e.getMessage(), e);
            }
            if (!valid) {
                throw new IntegrityException("The signature does not verify");
            }
            checkChain(certificate, included, signingTime(signer));
            if (origin == null) {
                origin = origin(signer, certificate);
            }
        }
        return origin;
    }

    private static Date signingTime(SignerInformation signer) {
        AttributeTable signed = signer.getSignedAttributes();
        Attribute time = signed == null ? null : signed.get(CMSAttributes.signingTime);
        if (time == null || time.getAttrValues().size() != 1) {
            return new Date();
        }
        return Time.getInstance(time.getAttrValues().getObjectAt(0)).getDate();
    }

    /**
     * The signer's certificate must be usable for signatures and valid at the signing time, and a
     * PKIX path must lead from it (directly or through CA certificates included in the SignedData)
     * to the gateway CA as trust anchor, every certificate valid at the signing time. No revocation
     * checking: the gateway CA publishes no revocation information.
     */
    private void checkChain(X509Certificate signerCertificate, List<X509Certificate> included, Date at) throws IntegrityException {
        boolean[] usage = signerCertificate.getKeyUsage();
        if (usage != null && !usage[0] && !usage[1]) {
            throw new IntegrityException("The signer's certificate is not meant for signatures (key usage)");
        }
        checkValidity(signerCertificate, at);
        X509Certificate ca = keys.caCertificate();
        try {
            Set<TrustAnchor> anchors = Set.of(new TrustAnchor(ca, null));
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(signerCertificate);
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, target);
            parameters.setRevocationEnabled(false);
            parameters.setDate(at);
            parameters.setMaxPathLength(MAX_INTERMEDIATES);
            List<X509Certificate> candidates = new ArrayList<>(included);
            candidates.add(signerCertificate);
            parameters.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(candidates)));
            CertPath path = CertPathBuilder.getInstance("PKIX").build(parameters).getCertPath();
            PKIXParameters validation = new PKIXParameters(anchors);
            validation.setRevocationEnabled(false);
            validation.setDate(at);
            CertPathValidator.getInstance("PKIX").validate(path, validation);
        } catch (CertPathBuilderException | CertPathValidatorException e) {
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof CertificateExpiredException || cause instanceof CertificateNotYetValidException) {
                    throw new IntegrityException("A certificate of the signer's chain was not valid at the signing time " + at.toInstant(), e);
                }
            }
            // the builder does not say why no path was found, e.g. an included intermediate that had expired
            throw new IntegrityException("The signer's certificate (" + signerCertificate.getSubjectX500Principal()
                    + ") is not certified by the gateway CA with certificates valid at the signing time " + at.toInstant(), e);
        } catch (GeneralSecurityException e) {
            throw new IntegrityException("Cannot check the signer's certificate chain: " + e.getMessage(), e);
        }
        // PKIX takes the trust anchor's validity for granted; the gateway CA must have been valid too
        checkValidity(ca, at);
    }

    private static void checkValidity(X509Certificate certificate, Date at) throws IntegrityException {
        try {
            certificate.checkValidity(at);
        } catch (CertificateException e) {
            throw new IntegrityException("The certificate " + certificate.getSubjectX500Principal() + " was not valid at the signing time "
                    + at.toInstant(), e);
        }
    }

    /** From the signer-attributes attribute's claimed attributes, else the signer certificate's subject. */
    private static Origin origin(SignerInformation signer, X509Certificate certificate) {
        AttributeTable signed = signer.getSignedAttributes();
        Attribute attribute = signed == null ? null : signed.get(PKCSObjectIdentifiers.id_aa_ets_signerAttr);
        if (attribute != null && attribute.getAttrValues().size() == 1) {
            String id = null;
            String name = null;
            for (Object value : SignerAttribute.getInstance(attribute.getAttrValues().getObjectAt(0)).getValues()) {
                if (value instanceof org.bouncycastle.asn1.x509.Attribute[] claimed) {
                    for (org.bouncycastle.asn1.x509.Attribute claim : claimed) {
                        ASN1Encodable[] values = claim.getAttributeValues();
                        if (values.length == 0) {
                            continue;
                        }
                        if (BCStyle.ORGANIZATION_IDENTIFIER.equals(claim.getAttrType())) {
                            id = string(values[0]);
                        } else if (BCStyle.O.equals(claim.getAttrType())) {
                            name = string(values[0]);
                        }
                    }
                }
            }
            if (id != null) {
                return new Origin(id, name);
            }
        }
        return new Origin(certificate.getSubjectX500Principal().getName(), null);
    }

    private static String string(ASN1Encodable value) {
        return value instanceof ASN1String string ? string.getString() : DirectoryString.getInstance(value).getString();
    }

    // ---------------------------------------------------------------------------------- reseal

    @Override
    public void reseal(InputStream sealed, String objectId, X509Certificate recipient, OutputStream sink) throws IOException {
        Objects.requireNonNull(sealed, "sealed");
        Objects.requireNonNull(objectId, "objectId");
        Objects.requireNonNull(recipient, "recipient");
        Objects.requireNonNull(sink, "sink");
        OutputStream encrypting;
        try {
            CMSEnvelopedDataStreamGenerator generator = new CMSEnvelopedDataStreamGenerator();
            generator.setBufferSize(BUFFER_SIZE);
            generator.addRecipientInfoGenerator(recipientInfoGenerator(recipient));
            OutputEncryptor encryptor = contentEncryptor(CMSAlgorithm.AES256_CBC);
            Decrypted decrypted = decrypt(sealed, objectId);
            encrypting = generator.open(new NonClosingOutputStream(sink), encryptor);
            byte[] buffer = new byte[BUFFER_SIZE];
            while (true) {
                int n;
                try {
                    n = decrypted.contentInfo.read(buffer);
                } catch (IOException | RuntimeException e) {
                    throw integrityFailure(decrypted.source, "The stored attachment does not verify", e);
                }
                if (n < 0) {
                    break;
                }
                encrypting.write(buffer, 0, n);
            }
        } catch (CMSException | GeneralSecurityException e) {
            throw new IOException("Cannot re-encrypt: " + e.getMessage(), e);
        }
        encrypting.close(); // completes the EnvelopedData; the sink stays open
    }

    // ------------------------------------------------------------------------ storage decryption

    /** The sealed stream and, decrypted, the ContentInfo(SignedData) inside it. */
    private record Decrypted(GuardedInputStream source, InputStream contentInfo) {
    }

    /** Decrypts the storage layer (chunked, or as stored before: AuthEnvelopedData or EnvelopedData) with the storage key it names. */
    private Decrypted decrypt(InputStream sealed, String objectId) throws IOException {
        GuardedInputStream source = new GuardedInputStream(sealed);
        try {
            InputStream in = new BufferedInputStream(source, BUFFER_SIZE);
            in.mark(MAGIC.length);
            if (Arrays.equals(in.readNBytes(MAGIC.length), MAGIC)) {
                DataInputStream header = new DataInputStream(in);
                int length = header.readInt();
                if (length < 1 || length > MAX_KEY_BLOCK_BYTES) {
                    throw new IntegrityException("The key block has an implausible length " + length);
                }
                byte[] keyBlock = new byte[length];
                header.readFully(keyBlock);
                SecretKey key = storedKey(keyBlock);
                return new Decrypted(source, ChunkedAesGcm.decrypting(in, key, objectId.getBytes(StandardCharsets.UTF_8)));
            }
            in.reset();
            return new Decrypted(source, cmsContent(in));
        } catch (CMSException | IOException | RuntimeException e) {
            throw integrityFailure(source, "Cannot decrypt the attachment", e);
        }
    }

    /** The per-object key from a key block, with whichever storage key it is encrypted to. */
    private SecretKey storedKey(byte[] keyBlock) throws CMSException, IntegrityException {
        RecipientInformationStore recipients = new CMSAuthEnvelopedData(keyBlock).getRecipientInfos();
        RecipientInformation information = null;
        PrivateKey privateKey = null;
        for (StorageRecipient key : storageRecipients) {
            for (RecipientInformation candidate : recipients.getRecipients()) {
                if (information == null && candidate.getRID().match(key.certificate())) {
                    information = candidate;
                    privateKey = key.privateKey();
                }
            }
        }
        if (information == null) {
            throw new IntegrityException("The attachment is not encrypted to any of the gateway's storage keys");
        }
        byte[] key = information.getContent(recipient(information, privateKey, true));
        if (key.length != 32) {
            throw new IntegrityException("The key block does not hold an AES-256 key");
        }
        return new SecretKeySpec(key, "AES");
    }

    /** The content of an object stored as CMS (Auth)EnvelopedData, decrypted as it streams by Bouncy Castle. */
    private InputStream cmsContent(InputStream in) throws CMSException, IOException {
        ASN1ObjectIdentifier type = peekContentType(in);
        RecipientInformationStore recipients;
        boolean authenticated;
        if (CMSObjectIdentifiers.authEnvelopedData.equals(type)) {
            recipients = new CMSAuthEnvelopedDataParser(in).getRecipientInfos();
            authenticated = true;
        } else if (CMSObjectIdentifiers.envelopedData.equals(type)) {
            recipients = new CMSEnvelopedDataParser(in).getRecipientInfos();
            authenticated = false;
        } else {
            throw new IntegrityException("Not a sealed attachment: neither the chunked format nor CMS (Auth)EnvelopedData but " + type);
        }
        for (StorageRecipient key : storageRecipients) {
            for (RecipientInformation information : recipients.getRecipients()) {
                if (information.getRID().match(key.certificate())) {
                    return contentInfo(information.getContentStream(recipient(information, key.privateKey(), authenticated)));
                }
            }
        }
        throw new IntegrityException("The attachment is not encrypted to any of the gateway's storage keys");
    }

    private static Recipient recipient(RecipientInformation information, PrivateKey key, boolean authenticated) throws IntegrityException {
        if (information instanceof KeyAgreeRecipientInformation) {
            JceKeyAgreeRecipient recipient = authenticated ? new JceKeyAgreeAuthEnvelopedRecipient(key) : new JceKeyAgreeEnvelopedRecipient(key);
            return recipient.setProvider(BC).setContentProvider(BC);
        }
        if (information instanceof KeyTransRecipientInformation) {
            JceKeyTransRecipient recipient = authenticated ? new JceKeyTransAuthEnvelopedRecipient(key) : new JceKeyTransEnvelopedRecipient(key);
            return recipient.setProvider(BC).setContentProvider(BC);
        }
        throw new IntegrityException("Unsupported recipient info " + information.getClass().getSimpleName());
    }

    /**
     * The decrypted content as a ContentInfo(SignedData): content type id-data (what OpenSSL and
     * {@link #seal} produce) already is one; content type id-signedData (RFC 5652 nesting) is a bare
     * SignedData that gets the ContentInfo wrapper prepended.
     */
    private static InputStream contentInfo(CMSTypedStream content) throws IntegrityException {
        ASN1ObjectIdentifier type = content.getContentType();
        if (CMSObjectIdentifiers.data.equals(type)) {
            return content.getContentStream();
        }
        if (CMSObjectIdentifiers.signedData.equals(type)) {
            return new SequenceInputStream(new SequenceInputStream(new ByteArrayInputStream(SIGNED_DATA_CONTENT_INFO_HEADER),
                    content.getContentStream()), new ByteArrayInputStream(TWO_END_OF_CONTENTS));
        }
        throw new IntegrityException("The encrypted content has the unexpected type " + type);
    }

    /** Reads the content type of a ContentInfo without consuming it. */
    private static ASN1ObjectIdentifier peekContentType(InputStream in) throws IOException {
        in.mark(64);
        if (in.read() != 0x30) {
            throw new IntegrityException("Not a CMS ContentInfo");
        }
        int length = in.read();
        if (length > 0x80) {
            int lengthBytes = length & 0x7f;
            if (lengthBytes > 4 || in.skip(lengthBytes) != lengthBytes) {
                throw new IntegrityException("Not a CMS ContentInfo");
            }
        } else if (length < 0) {
            throw new IntegrityException("Not a CMS ContentInfo");
        }
        if (in.read() != 0x06) {
            throw new IntegrityException("Not a CMS ContentInfo");
        }
        int oidLength = in.read();
        if (oidLength < 1 || oidLength > 32) {
            throw new IntegrityException("Not a CMS ContentInfo");
        }
        byte[] oid = new byte[oidLength + 2];
        oid[0] = 0x06;
        oid[1] = (byte) oidLength;
        if (in.readNBytes(oid, 2, oidLength) != oidLength) {
            throw new IntegrityException("Not a CMS ContentInfo");
        }
        in.reset();
        return ASN1ObjectIdentifier.getInstance(ASN1Primitive.fromByteArray(oid));
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[BUFFER_SIZE];
        while (in.read(buffer) >= 0) {
            // discard
        }
    }

    /**
     * An I/O error of the sealed stream itself is passed on as it is; anything else (parse errors,
     * failed tag or signature) becomes an {@link IntegrityException}.
     */
    private static IOException integrityFailure(GuardedInputStream source, String message, Exception e) {
        if (source.failure != null) {
            return source.failure;
        }
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof IntegrityException integrity) {
                return integrity;
            }
        }
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof InvalidCipherTextIOException || cause instanceof AEADBadTagException) {
                return new IntegrityException("The authentication tag does not verify", e);
            }
        }
        String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new IntegrityException(message + ": " + detail, e);
    }

    /** Remembers an I/O error of the underlying stream, to tell it apart from a parse error. */
    private static final class GuardedInputStream extends FilterInputStream {
        private IOException failure;

        GuardedInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                failure = e;
                throw e;
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                failure = e;
                throw e;
            }
        }

        @Override
        public long skip(long n) throws IOException {
            try {
                return super.skip(n);
            } catch (IOException e) {
                failure = e;
                throw e;
            }
        }
    }

    /** Lets the CMS generators finish their structures without closing the caller's stream. */
    private static final class NonClosingOutputStream extends OutputStream {
        private final OutputStream out;

        NonClosingOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
