package org.carerelay.routes.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.cert.X509Certificate;

/**
 * Signs and encrypts attachments with CMS, as streams: nothing here holds a whole attachment in
 * memory. At rest an attachment is a CMS AuthEnvelopedData (AES-256-GCM) for the current storage
 * key, wrapping a CMS SignedData (encapsulated content) signed by the gateway's signing key on
 * behalf of the sending organisation. For a recipient it is a CMS EnvelopedData for the
 * recipient's certificate wrapping the same SignedData, so that {@code openssl cms -decrypt} and
 * then {@code openssl cms -verify} against the gateway's CA yield the original bytes.
 */
public interface AttachmentCrypto {

    /**
     * Returns a stream that signs what is written to it on behalf of {@code origin} and encrypts
     * the signed structure to the current storage key into {@code sink}. Closing the returned
     * stream completes both CMS layers and closes {@code sink}.
     */
    OutputStream seal(OutputStream sink, Origin origin) throws IOException;

    /**
     * Opens a sealed attachment: decrypts it with whichever storage key it names and yields the
     * original bytes. When the stream reaches its end it checks the authentication tag, the
     * signature and the signer's certificate chain to the gateway CA, and throws
     * {@link IntegrityException} instead of reporting the end if any of them fails. Parse errors
     * are reported as {@link IntegrityException} too. Callers that must not release unverified
     * bytes read the stream to its end first.
     */
    OpenedAttachment open(InputStream sealed) throws IOException;

    /**
     * Writes a CMS EnvelopedData for {@code recipient} (RSA: RSAES-OAEP; EC: ECDH key agreement;
     * content AES-256-CBC for the widest interoperability) containing the stored SignedData
     * unchanged. Throws {@link IntegrityException} if the stored object's tag fails; the caller
     * must then discard what was written. Does not close either stream.
     */
    void reseal(InputStream sealed, X509Certificate recipient, OutputStream sink) throws IOException;

    /** The alias of the storage key that {@link #seal} encrypts to. */
    String currentStorageKeyId();

    /** The plaintext of an opened attachment; {@link #origin()} is known once it has been read to the end. */
    abstract class OpenedAttachment extends InputStream {

        /** The organisation named in the verified signature, or null before the end was reached. */
        public abstract Origin origin();
    }
}
