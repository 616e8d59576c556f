package org.carerelay.routes.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.carerelay.routes.crypto.TestPki.OBJECT_ID;
import static org.carerelay.routes.crypto.TestPki.data;
import static org.carerelay.routes.crypto.TestPki.readAll;
import static org.carerelay.routes.crypto.TestPki.seal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSObjectIdentifiers;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.OriginatorIdentifierOrKey;
import org.bouncycastle.asn1.cms.OriginatorPublicKey;
import org.bouncycastle.asn1.esf.SignerAttribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSAuthEnvelopedData;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.KeyAgreeRecipientInformation;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JceKeyAgreeAuthEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransAuthEnvelopedRecipient;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CmsAttachmentCryptoTest {

    private static final Origin ORIGIN = new Origin("5-SMC-B-Testkarte-883110000092400", "Praxis Dr. Müller");
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    @TempDir
    static Path dir;

    static Pkcs12GatewayKeys keys;
    static CmsAttachmentCrypto crypto;
    static TestPki.Issued gatewayCa;

    @BeforeAll
    static void createKeys() throws Exception {
        keys = Pkcs12GatewayKeys.createIfAbsent(dir.resolve("gateway.p12"), dir.resolve("gateway.pass"), "Test Gateway");
        crypto = new CmsAttachmentCrypto(keys);
        gatewayCa = TestPki.gatewayCa(dir.resolve("gateway.p12"), dir.resolve("gateway.pass"));
    }

    // ---------------------------------------------------------------------------- round trips

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 1000, 1 << 20, (1 << 20) + 1, 5 * 1024 * 1024 + 17, 20_000_000})
    void sealThenOpen_returnsTheBytes_andTheOrigin(int size) throws Exception {
        byte[] content = data(size, size);
        byte[] sealed = seal(crypto, content, ORIGIN);

        assertThat(Arrays.copyOf(sealed, 4)).as("chunked format").isEqualTo(CmsAttachmentCrypto.MAGIC);
        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(new ByteArrayInputStream(sealed), OBJECT_ID)) {
            assertThat(opened.origin()).as("not known before the end").isNull();
            assertThat(opened.readAllBytes()).isEqualTo(content);
            assertThat(opened.origin()).isEqualTo(ORIGIN);
            assertThat(opened.read()).isEqualTo(-1);
        }
    }

    @Test
    void singleByteReads_andOriginWithoutName() throws Exception {
        Origin origin = new Origin("org-without-name", null);
        byte[] sealed = seal(crypto, new byte[] {42, -1, 0}, origin);
        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(new ByteArrayInputStream(sealed), OBJECT_ID)) {
            assertThat(opened.read()).isEqualTo(42);
            assertThat(opened.read()).isEqualTo(255);
            assertThat(opened.read()).isEqualTo(0);
            assertThat(opened.read()).isEqualTo(-1);
            assertThat(opened.origin()).isEqualTo(origin);
        }
    }

    @Test
    void emptyContent_roundTrips() throws Exception {
        byte[] sealed = seal(crypto, new byte[0], ORIGIN);
        assertThat(readAll(crypto, sealed)).isEmpty();
    }

    @Test
    void closingTheSealStream_closesTheSink_once() throws Exception {
        int[] closes = {0};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStream sink = new OutputStream() {
            @Override
            public void write(int b) {
                bytes.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                bytes.write(b, off, len);
            }

            @Override
            public void close() {
                closes[0]++;
            }
        };
        OutputStream out = crypto.seal(sink, ORIGIN, OBJECT_ID);
        out.write(new byte[] {1, 2, 3});
        assertThat(closes[0]).isZero();
        out.close();
        out.close();
        assertThat(closes[0]).isEqualTo(1);
        assertThat(readAll(crypto, bytes.toByteArray())).containsExactly(1, 2, 3);
    }

    @Test
    void sealedStructure_followsTheProfile() throws Exception {
        byte[] content = "Befund".getBytes();
        byte[] sealed = seal(crypto, content, ORIGIN);

        CMSAuthEnvelopedData keyBlock = TestPki.keyBlock(sealed);
        RecipientInformation recipient = keyBlock.getRecipientInfos().getRecipients().iterator().next();
        assertThat(recipient.getKeyEncryptionAlgOID()).isEqualTo(CMSAlgorithm.ECDH_SHA256KDF.getId());
        OriginatorPublicKey ephemeral = OriginatorIdentifierOrKey.getInstance(((KeyAgreeRecipientInformation) recipient).getOriginator())
                .getOriginatorKey();
        assertThat(ephemeral.getAlgorithm().getParameters()).as("the ephemeral key names its curve, P-256")
                .isEqualTo(SECObjectIdentifiers.secp256r1);
        assertThat(recipient.getContent(new JceKeyAgreeAuthEnvelopedRecipient(keys.currentStorageKey().privateKey()).setProvider(BC)))
                .as("a per-object AES-256 key").hasSize(32);
        assertThat(TestPki.chunks(sealed)).hasSize(1);
        byte[] inner = TestPki.storedSignedData(sealed, keys.currentStorageKey().privateKey());

        CMSSignedData signed = new CMSSignedData(inner);
        assertThat((byte[]) signed.getSignedContent().getContent()).isEqualTo(content);
        assertThat(signed.getCertificates().getMatches(null)).hasSize(2);
        SignerInformation signer = signed.getSignerInfos().getSigners().iterator().next();
        assertThat(signer.getEncryptionAlgOID()).isEqualTo(X9ObjectIdentifiers.ecdsa_with_SHA256.getId());
        assertThat(signer.getDigestAlgOID()).isEqualTo("2.16.840.1.101.3.4.2.1");
        List<ASN1ObjectIdentifier> attributes = new ArrayList<>();
        signer.getSignedAttributes().toHashtable().keySet().forEach(oid -> attributes.add((ASN1ObjectIdentifier) oid));
        assertThat(attributes).containsExactlyInAnyOrder(
                PKCSObjectIdentifiers.pkcs_9_at_contentType,
                PKCSObjectIdentifiers.pkcs_9_at_messageDigest,
                PKCSObjectIdentifiers.pkcs_9_at_signingTime,
                PKCSObjectIdentifiers.id_aa_cmsAlgorithmProtect,
                PKCSObjectIdentifiers.id_aa_ets_signerAttr);
        SignerAttribute signerAttribute = SignerAttribute.getInstance(
                signer.getSignedAttributes().get(PKCSObjectIdentifiers.id_aa_ets_signerAttr).getAttrValues().getObjectAt(0));
        org.bouncycastle.asn1.x509.Attribute[] claimed = (org.bouncycastle.asn1.x509.Attribute[]) signerAttribute.getValues()[0];
        assertThat(claimed).extracting(org.bouncycastle.asn1.x509.Attribute::getAttrType).containsExactly(BCStyle.ORGANIZATION_IDENTIFIER, BCStyle.O);
        assertThat(claimed[0].getAttributeValues()[0]).isInstanceOf(org.bouncycastle.asn1.DERUTF8String.class);
    }

    @Test
    void rsaStorageKey_andRsaPssSigningKey_roundTrip() throws Exception {
        KeyPair storage = TestPki.rsa();
        X509Certificate storageCertificate = TestPki.certificate("CN=RSA storage", storage.getPublic(), gatewayCa.certificate(),
                gatewayCa.privateKey(), Instant.now().minusSeconds(60), Instant.now().plus(Duration.ofDays(1)), false,
                KeyUsage.keyEncipherment, null);
        TestPki.Issued signing = TestPki.signer("CN=RSA signing, O=CareRelay", TestPki.rsa(), gatewayCa);
        GatewayKeys rsaKeys = new TestPki.StaticKeys(keys.caCertificate(), signing.privateKey(),
                List.of(signing.certificate(), keys.caCertificate()),
                List.of(new GatewayKeys.StorageKey("storage-rsa", storageCertificate, storage.getPrivate())));
        CmsAttachmentCrypto rsaCrypto = new CmsAttachmentCrypto(rsaKeys);
        byte[] content = data(100_000, 7);

        byte[] sealed = seal(rsaCrypto, content, ORIGIN);

        try (AttachmentCrypto.OpenedAttachment opened = rsaCrypto.open(new ByteArrayInputStream(sealed), OBJECT_ID)) {
            assertThat(opened.readAllBytes()).isEqualTo(content);
            assertThat(opened.origin()).isEqualTo(ORIGIN);
        }
        RecipientInformation recipient = TestPki.keyBlock(sealed).getRecipientInfos().getRecipients().iterator().next();
        assertThat(recipient.getKeyEncryptionAlgOID()).isEqualTo(PKCSObjectIdentifiers.id_RSAES_OAEP.getId());
        CMSSignedData signed = new CMSSignedData(TestPki.storedSignedData(sealed, storage.getPrivate()));
        byte[] previous = TestPki.previousFormat(rsaCrypto, rsaKeys, content, ORIGIN);
        assertThat(readAll(rsaCrypto, previous)).as("the previous format with an RSA storage key").isEqualTo(content);
        assertThat(signed.getSignerInfos().getSigners().iterator().next().getEncryptionAlgOID())
                .isEqualTo(PKCSObjectIdentifiers.id_RSASSA_PSS.getId());
    }

    @Test
    void olderStorageKeys_stillOpen() throws Exception {
        KeyPair newStorage = TestPki.ec();
        X509Certificate newCertificate = TestPki.certificate("CN=newer storage", newStorage.getPublic(), null, newStorage.getPrivate(),
                Instant.now(), Instant.now().plus(Duration.ofDays(1)), false, KeyUsage.keyAgreement, null);
        List<GatewayKeys.StorageKey> storage = new ArrayList<>();
        storage.add(new GatewayKeys.StorageKey("storage-new", newCertificate, newStorage.getPrivate()));
        storage.addAll(keys.storageKeys());
        CmsAttachmentCrypto rotated = new CmsAttachmentCrypto(new TestPki.StaticKeys(keys.caCertificate(), keys.signingKey(),
                keys.signingChain(), storage));
        byte[] old = seal(crypto, new byte[] {1}, ORIGIN);
        byte[] fresh = seal(rotated, new byte[] {2}, ORIGIN);

        assertThat(rotated.currentStorageKeyId()).isEqualTo("storage-new");
        assertThat(readAll(rotated, old)).containsExactly(1);
        assertThat(readAll(rotated, fresh)).containsExactly(2);
        assertThatThrownBy(() -> readAll(crypto, fresh))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("storage keys");
    }

    @Test
    void rfc5652Nesting_signedDataContentType_opensToo() throws Exception {
        byte[] content = data(3000, 3);
        byte[] sealed = seal(crypto, content, ORIGIN);
        // take our SignedData out and re-encrypt it as a bare SignedData with content type id-signedData
        byte[] contentInfo = TestPki.storedSignedData(sealed, keys.currentStorageKey().privateKey());
        byte[] bareSignedData = ContentInfo.getInstance(contentInfo).getContent().toASN1Primitive().getEncoded();
        // RFC 5083: authenticated attributes (at least the content type) are required for non-data content
        AttributeTable contentType = new AttributeTable(
                new Attribute(PKCSObjectIdentifiers.pkcs_9_at_contentType, new DERSet(CMSObjectIdentifiers.signedData)));
        byte[] renested = TestPki.authEnveloped(CMSObjectIdentifiers.signedData, bareSignedData, keys.currentStorageKey().certificate(),
                null, contentType);

        assertThat(readAll(crypto, renested)).isEqualTo(content);
    }

    // ---------------------------------------------------------------------------- tampering

    @Test
    void flippedByteInTheEncryptedContent_fails() throws Exception {
        byte[] content = data(5 * 1024 * 1024, 11);
        byte[] sealed = seal(crypto, content, ORIGIN);
        sealed[sealed.length / 2] ^= (byte) 0xff;

        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(new ByteArrayInputStream(sealed), OBJECT_ID)) {
            assertThatThrownBy(opened::readAllBytes)
                    .isInstanceOf(IntegrityException.class)
                    .hasMessageContaining("tag");
            assertThat(opened.origin()).isNull();
            assertThatThrownBy(opened::read).as("stays failed").isInstanceOf(IntegrityException.class);
        }
    }

    /**
     * Content changed inside the SignedData and encrypted again correctly to the storage key (as
     * someone holding that key could): only the signature's content digest, hashed beside the
     * decryption, can notice, wherever in the content the byte is.
     */
    @ParameterizedTest
    @ValueSource(ints = {10, 262_144, 2_000_000, 3 * (1 << 20) + 8})
    void contentChangedUnderAValidEncryption_failsTheSignature(int position) throws Exception {
        byte[] content = data(3 * (1 << 20) + 40, 13);
        byte[] signedData = TestPki.storedSignedData(seal(crypto, content, ORIGIN), keys.currentStorageKey().privateKey());
        int at = positionInSignedData(signedData, content, position);
        assertThat(at).as("the content's byte is in the SignedData").isNotNegative();
        byte[] untouched = TestPki.authEnveloped(CMSObjectIdentifiers.data, signedData, keys.currentStorageKey().certificate(), null, null);
        assertThat(readAll(crypto, untouched)).as("encrypted again without a change, it opens").isEqualTo(content);

        signedData[at] ^= 0x01;
        byte[] tampered = TestPki.authEnveloped(CMSObjectIdentifiers.data, signedData, keys.currentStorageKey().certificate(), null, null);

        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(new ByteArrayInputStream(tampered), "Binary/tampered")) {
            assertThatThrownBy(opened::readAllBytes).isInstanceOf(IntegrityException.class)
                    .hasMessageStartingWith("The signature does not verify");
            assertThat(opened.origin()).isNull();
        }
    }

    /**
     * Where the content's byte at {@code position} is in the encoded SignedData: found by the 32 bytes
     * from it on (or up to it, at the end), which the BER chunks of the content do not split here.
     */
    private static int positionInSignedData(byte[] signedData, byte[] content, int position) {
        int from = position + 32 <= content.length ? position : position - 31;
        byte[] window = Arrays.copyOfRange(content, from, from + 32);
        for (int i = 0; i + window.length <= signedData.length; i++) {
            if (Arrays.equals(signedData, i, i + window.length, window, 0, window.length)) {
                return i + position - from;
            }
        }
        return -1;
    }

    @Test
    void flippedByteInTheTag_fails() throws Exception {
        byte[] content = data(200_000, 12);
        byte[] sealed = seal(crypto, content, ORIGIN);
        // the last 16 bytes are the GCM tag of the last chunk
        int tag = sealed.length - 16;
        sealed[tag + 7] ^= 0x01;

        assertThatThrownBy(() -> readAll(crypto, sealed))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("tag");
    }

    /**
     * Every single-bit change of a sealed object either still yields exactly the original bytes
     * (unauthenticated framing or key-agreement metadata that does not change the outcome) or
     * fails with an IntegrityException; nothing else escapes and nothing else is returned.
     */
    @Test
    void anyFlippedBit_yieldsTheOriginalOrIntegrityException() throws Exception {
        byte[] content = data(300, 13);
        byte[] sealed = seal(crypto, content, ORIGIN);
        int failures = 0;
        for (int position = 0; position < sealed.length; position += position < 64 || position > sealed.length - 64 ? 1 : 5) {
            for (int bit : new int[] {0x01, 0x80}) {
                byte[] tampered = sealed.clone();
                tampered[position] ^= (byte) bit;
                Throwable thrown = catchThrowable(() -> assertThat(readAll(crypto, tampered)).isEqualTo(content));
                if (thrown != null) {
                    assertThat(thrown).as("bit %x at %d of %d", bit, position, sealed.length).isInstanceOf(IntegrityException.class);
                    failures++;
                }
            }
        }
        assertThat(failures).isGreaterThan(100);
    }

    @Test
    void garbage_failsWithIntegrityExceptionOnly() throws Exception {
        byte[] sealed = seal(crypto, data(2000, 14), ORIGIN);
        Random random = new Random(15);
        List<byte[]> inputs = new ArrayList<>();
        inputs.add(new byte[0]);
        inputs.add(new byte[] {0x30});
        inputs.add(new byte[] {0x30, (byte) 0x80});
        for (int i = 0; i < 40; i++) {
            byte[] garbage = data(1 + random.nextInt(3000), random.nextLong());
            inputs.add(garbage);
            // behind a valid start (magic, length, key block), so that the parser gets further
            byte[] prefixed = garbage.clone();
            System.arraycopy(sealed, 0, prefixed, 0, Math.min(17 + i * 11, prefixed.length));
            inputs.add(prefixed);
        }
        for (int length = 0; length < sealed.length; length += length > sealed.length - 40 ? 1 : 11) {
            inputs.add(Arrays.copyOf(sealed, length));
        }

        for (byte[] input : inputs) {
            assertThatThrownBy(() -> readAll(crypto, input))
                    .as("input of %d bytes", input.length)
                    .isInstanceOf(IntegrityException.class);
        }
    }

    @Test
    void ioErrorOfTheSource_isNotReportedAsIntegrityProblem() throws Exception {
        byte[] sealed = seal(crypto, data(500_000, 16), ORIGIN);
        InputStream failing = new InputStream() {
            private final InputStream in = new ByteArrayInputStream(sealed);
            private int read;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (read > 100_000) {
                    throw new IOException("disk on fire");
                }
                int n = in.read(b, off, Math.min(len, 4096));
                read += Math.max(n, 0);
                return n;
            }
        };
        assertThatThrownBy(() -> crypto.open(failing, OBJECT_ID).readAllBytes())
                .isExactlyInstanceOf(IOException.class)
                .hasMessage("disk on fire");
    }

    // ---------------------------------------------------------------------------- stored chunks

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void storedObject_flippedByteInChunk_fails(int chunk) throws Exception {
        byte[] sealed = seal(crypto, data(2 * (1 << 20) + 5000, 30), ORIGIN);
        List<byte[]> chunks = TestPki.chunks(sealed);
        assertThat(chunks).hasSize(3);
        chunks.get(chunk)[100] ^= 0x10;

        assertThatThrownBy(() -> readAll(crypto, TestPki.withChunks(sealed, chunks)))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("chunk " + chunk);
    }

    @Test
    void storedObject_swappedChunks_fail() throws Exception {
        byte[] sealed = seal(crypto, data(3 * (1 << 20), 31), ORIGIN);
        List<byte[]> chunks = TestPki.chunks(sealed);
        java.util.Collections.swap(chunks, 1, 2);

        assertThatThrownBy(() -> readAll(crypto, TestPki.withChunks(sealed, chunks)))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("chunk 1");
    }

    @Test
    void storedObject_droppedLastChunk_fails() throws Exception {
        byte[] sealed = seal(crypto, data(2 * (1 << 20), 32), ORIGIN);
        List<byte[]> chunks = TestPki.chunks(sealed);
        assertThat(chunks).hasSize(3);
        chunks.remove(2);

        assertThatThrownBy(() -> readAll(crypto, TestPki.withChunks(sealed, chunks)))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("chunk 1");
    }

    @Test
    void storedObject_chunkMovedFromAnotherObject_fails() throws Exception {
        byte[] content = data(2 * (1 << 20), 33);
        byte[] sealed = seal(crypto, content, ORIGIN);
        byte[] other = seal(crypto, content, ORIGIN);
        List<byte[]> chunks = TestPki.chunks(sealed);
        chunks.set(1, TestPki.chunks(other).get(1));

        assertThatThrownBy(() -> readAll(crypto, TestPki.withChunks(sealed, chunks)))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("chunk 1");
    }

    @Test
    void storedObject_openedUnderAnotherId_fails() throws Exception {
        byte[] sealed = seal(crypto, data(1000, 34), ORIGIN);

        assertThatThrownBy(() -> {
            try (AttachmentCrypto.OpenedAttachment opened = crypto.open(new ByteArrayInputStream(sealed), "Binary/someone-else")) {
                opened.readAllBytes();
            }
        }).isInstanceOf(IntegrityException.class).hasMessageContaining("tag of chunk 0");
        assertThatThrownBy(() -> crypto.reseal(new ByteArrayInputStream(sealed), "Binary/someone-else",
                TestPki.signer("CN=Recipient", TestPki.ec(), null).certificate(), new ByteArrayOutputStream()))
                .isInstanceOf(IntegrityException.class);
    }

    // ---------------------------------------------------------------------------- stored before

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 70_000, 3 * (1 << 20) + 7})
    void previousFormat_opens_underAnyId(int size) throws Exception {
        byte[] content = data(size, 40 + size);
        byte[] previous = TestPki.previousFormat(crypto, keys, content, ORIGIN);
        assertThat(contentType(previous)).isEqualTo(CMSObjectIdentifiers.authEnvelopedData);

        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(new ByteArrayInputStream(previous), "Binary/stored-before")) {
            assertThat(opened.readAllBytes()).isEqualTo(content);
            assertThat(opened.origin()).isEqualTo(ORIGIN);
        }
    }

    @Test
    void previousFormat_flippedByte_failsWithTheTag() throws Exception {
        byte[] previous = TestPki.previousFormat(crypto, keys, data(200_000, 41), ORIGIN);
        previous[previous.length / 2] ^= 0x20;

        assertThatThrownBy(() -> readAll(crypto, previous))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("tag");
    }

    @Test
    void previousFormat_resealsWithTheUnchangedSignedData() throws Exception {
        byte[] content = data(50_000, 42);
        byte[] sealed = seal(crypto, content, ORIGIN);
        byte[] stored = TestPki.storedSignedData(sealed, keys.currentStorageKey().privateKey());
        byte[] previous = TestPki.authEnveloped(CMSObjectIdentifiers.data, stored, keys.currentStorageKey().certificate(), null, null);
        TestPki.Issued recipient = TestPki.signer("CN=Recipient", TestPki.ec(), null);

        ByteArrayOutputStream resealed = new ByteArrayOutputStream();
        crypto.reseal(new ByteArrayInputStream(previous), "Binary/stored-before", recipient.certificate(), resealed);

        byte[] signed = new org.bouncycastle.cms.CMSEnvelopedData(resealed.toByteArray()).getRecipientInfos().getRecipients().iterator().next()
                .getContent(new org.bouncycastle.cms.jcajce.JceKeyAgreeEnvelopedRecipient(recipient.privateKey()).setProvider(BC));
        assertThat(signed).isEqualTo(stored);
    }

    // ---------------------------------------------------------------------------- signers

    @Test
    void selfSignedSigner_isRejected() throws Exception {
        TestPki.Issued rogue = TestPki.signer("CN=Test Gateway signing, O=CareRelay", TestPki.ec(), null);
        assertRejected(rogue, List.of(rogue.certificate()), "not certified by the gateway CA");
    }

    @Test
    void signerFromAnotherCaWithTheSameName_isRejected() throws Exception {
        // same DNs as the real gateway keys, different keys
        Pkcs12GatewayKeys impostor = Pkcs12GatewayKeys.createIfAbsent(dir.resolve("impostor/gateway.p12"),
                dir.resolve("impostor/gateway.pass"), "Test Gateway");
        assertThat(impostor.caCertificate().getSubjectX500Principal()).isEqualTo(keys.caCertificate().getSubjectX500Principal());
        GatewayKeys mixed = new TestPki.StaticKeys(impostor.caCertificate(), impostor.signingKey(), impostor.signingChain(),
                keys.storageKeys());

        byte[] sealed = seal(new CmsAttachmentCrypto(mixed), data(1000, 17), ORIGIN);

        assertThatThrownBy(() -> readAll(crypto, sealed))
                .isInstanceOf(IntegrityException.class)
                .hasMessageContaining("not certified by the gateway CA");
    }

    @Test
    void signerUnderAnIntermediateIncludedInTheSignedData_isAccepted_andWithoutIt_rejected() throws Exception {
        KeyPair intermediateKeys = TestPki.ec();
        X509Certificate intermediate = TestPki.certificate("CN=Intermediate, O=CareRelay", intermediateKeys.getPublic(),
                gatewayCa.certificate(), gatewayCa.privateKey(), Instant.now().minusSeconds(600), Instant.now().plus(Duration.ofDays(1)),
                true, KeyUsage.keyCertSign, null);
        TestPki.Issued leaf = TestPki.signer("CN=Leaf signer, O=CareRelay", TestPki.ec(),
                new TestPki.Issued(intermediateKeys, intermediate));

        GatewayKeys withIntermediate = new TestPki.StaticKeys(keys.caCertificate(), leaf.privateKey(),
                List.of(leaf.certificate(), intermediate, keys.caCertificate()), keys.storageKeys());
        byte[] sealed = seal(new CmsAttachmentCrypto(withIntermediate), data(1000, 18), ORIGIN);
        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(new ByteArrayInputStream(sealed), OBJECT_ID)) {
            assertThat(opened.readAllBytes()).hasSize(1000);
            assertThat(opened.origin()).isEqualTo(ORIGIN);
        }

        assertRejected(leaf, List.of(leaf.certificate()), "not certified by the gateway CA");
    }

    @Test
    void signerCertificateExpiredAtSigningTime_isRejected() throws Exception {
        TestPki.Issued expired = TestPki.signer("CN=Expired signer, O=CareRelay", TestPki.ec(), gatewayCa,
                Instant.now().minus(Duration.ofDays(30)), Instant.now().minus(Duration.ofDays(1)));
        assertRejected(expired, List.of(expired.certificate(), keys.caCertificate()), "not valid at the signing time");
    }

    @Test
    void signerCertificateNotMeantForSignatures_isRejected() throws Exception {
        KeyPair keyPair = TestPki.ec();
        X509Certificate certificate = TestPki.certificate("CN=Key agreement only", keyPair.getPublic(), gatewayCa.certificate(),
                gatewayCa.privateKey(), Instant.now().minusSeconds(600), Instant.now().plus(Duration.ofDays(1)), false,
                KeyUsage.keyAgreement, null);
        TestPki.Issued wrongUsage = new TestPki.Issued(keyPair, certificate);
        assertRejected(wrongUsage, List.of(certificate, keys.caCertificate()), "key usage");
    }

    @Test
    void intermediateWithoutKeyCertSign_isRejected() throws Exception {
        assertIntermediateRejected(true, KeyUsage.digitalSignature, Instant.now().plus(Duration.ofDays(1)), "not certified by the gateway CA");
    }

    @Test
    void intermediateThatIsNoCa_isRejected() throws Exception {
        assertIntermediateRejected(false, KeyUsage.keyCertSign, Instant.now().plus(Duration.ofDays(1)), "not certified by the gateway CA");
    }

    @Test
    void intermediateExpiredAtSigningTime_isRejected() throws Exception {
        assertIntermediateRejected(true, KeyUsage.keyCertSign, Instant.now().minusSeconds(60), "not certified by the gateway CA");
    }

    @Test
    void signerNotYetValidAtSigningTime_isRejected() throws Exception {
        TestPki.Issued future = TestPki.signer("CN=Future signer, O=CareRelay", TestPki.ec(), gatewayCa,
                Instant.now().plus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)));
        assertRejected(future, List.of(future.certificate(), keys.caCertificate()), "not valid at the signing time");
    }

    /** A leaf under an intermediate of the gateway CA that is included in the SignedData but unfit to issue it. */
    private static void assertIntermediateRejected(boolean ca, int keyUsage, Instant notAfter, String reason) throws Exception {
        KeyPair intermediateKeys = TestPki.ec();
        X509Certificate intermediate = TestPki.certificate("CN=Unfit intermediate, O=CareRelay", intermediateKeys.getPublic(),
                gatewayCa.certificate(), gatewayCa.privateKey(), Instant.now().minus(Duration.ofDays(2)), notAfter, ca, keyUsage, null);
        TestPki.Issued leaf = TestPki.signer("CN=Leaf under an unfit intermediate, O=CareRelay", TestPki.ec(),
                new TestPki.Issued(intermediateKeys, intermediate), Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(1)));
        assertRejected(leaf, List.of(leaf.certificate(), intermediate, keys.caCertificate()), reason);
    }

    private static void assertRejected(TestPki.Issued signer, List<X509Certificate> chain, String reason) throws Exception {
        GatewayKeys rogueKeys = new TestPki.StaticKeys(keys.caCertificate(), signer.privateKey(), chain, keys.storageKeys());
        byte[] content = data(1000, 19);
        byte[] sealed = seal(new CmsAttachmentCrypto(rogueKeys), content, ORIGIN);

        try (AttachmentCrypto.OpenedAttachment opened = crypto.open(new ByteArrayInputStream(sealed), OBJECT_ID)) {
            byte[] buffer = new byte[content.length];
            assertThat(opened.readNBytes(buffer, 0, content.length)).isEqualTo(content.length);
            assertThatThrownBy(opened::read).isInstanceOf(IntegrityException.class).hasMessageContaining(reason);
            assertThat(opened.origin()).isNull();
        }
    }

    // ---------------------------------------------------------------------------- reseal

    @Test
    void reseal_yieldsEnvelopedDataWithTheUnchangedSignedData() throws Exception {
        byte[] content = data(70_000, 20);
        byte[] sealed = seal(crypto, content, ORIGIN);
        TestPki.Issued recipient = TestPki.signer("CN=Recipient", TestPki.ec(), null);

        ByteArrayOutputStream resealed = new ByteArrayOutputStream();
        crypto.reseal(new ByteArrayInputStream(sealed), OBJECT_ID, recipient.certificate(), resealed);

        assertThat(contentType(resealed.toByteArray())).isEqualTo(CMSObjectIdentifiers.envelopedData);
        org.bouncycastle.cms.CMSEnvelopedData enveloped = new org.bouncycastle.cms.CMSEnvelopedData(resealed.toByteArray());
        assertThat(enveloped.getEncryptionAlgOID()).isEqualTo(CMSAlgorithm.AES256_CBC.getId());
        byte[] signed = enveloped.getRecipientInfos().getRecipients().iterator().next()
                .getContent(new org.bouncycastle.cms.jcajce.JceKeyAgreeEnvelopedRecipient(recipient.privateKey()).setProvider(BC));
        byte[] stored = TestPki.storedSignedData(sealed, keys.currentStorageKey().privateKey());
        assertThat(signed).isEqualTo(stored);
        assertThat((byte[]) new CMSSignedData(signed).getSignedContent().getContent()).isEqualTo(content);
    }

    @Test
    void reseal_doesNotCloseStreams_andRejectsATamperedObject() throws Exception {
        byte[] sealed = seal(crypto, data(10_000, 21), ORIGIN);
        TestPki.Issued recipient = TestPki.signer("CN=Recipient", TestPki.ec(), null);
        boolean[] closed = {false, false};
        InputStream in = new ByteArrayInputStream(sealed) {
            @Override
            public void close() {
                closed[0] = true;
            }
        };
        OutputStream out = new ByteArrayOutputStream() {
            @Override
            public void close() {
                closed[1] = true;
            }
        };
        crypto.reseal(in, OBJECT_ID, recipient.certificate(), out);
        assertThat(closed).containsExactly(false, false);

        byte[] tampered = sealed.clone();
        tampered[tampered.length - 12] ^= 1;
        assertThatThrownBy(() -> crypto.reseal(new ByteArrayInputStream(tampered), OBJECT_ID, recipient.certificate(),
                new ByteArrayOutputStream()))
                .isInstanceOf(IntegrityException.class);
    }

    @Test
    void currentStorageKeyId_isTheKeystoreAlias() {
        assertThat(crypto.currentStorageKeyId()).isEqualTo(keys.currentStorageKey().alias()).startsWith("storage-");
    }

    // ---------------------------------------------------------------------------- helpers

    private static ASN1ObjectIdentifier contentType(byte[] cms) {
        return ContentInfo.getInstance(cms).getContentType();
    }
}
