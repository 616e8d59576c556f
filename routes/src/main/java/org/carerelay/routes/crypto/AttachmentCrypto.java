package org.carerelay.routes.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.cert.X509Certificate;

/**
 * Signs and encrypts attachments, as streams: nothing here holds a whole attachment in memory.
 * Every attachment is a CMS SignedData (encapsulated content) signed by the gateway's signing key
 * on behalf of the sending organisation. At rest that SignedData is encrypted with AES-256-GCM in
 * chunks bound to the object's id, under a per-object key wrapped to the current storage key. For
 * a recipient it is a CMS EnvelopedData for the recipient's certificate wrapping the same
 * SignedData, so that {@code openssl cms -decrypt} and then {@code openssl cms -verify} against the
 * gateway's CA yield the original bytes.
 */
public interface AttachmentCrypto {

    /**
     * Returns a stream that signs what is written to it on behalf of {@code origin} and encrypts
     * the signed structure to the current storage key into {@code sink}, bound to {@code objectId}
     * (the id it is stored under; it must be given again to open it). Closing the returned stream
     * completes the signature and the encryption and closes {@code sink}.
     */
    OutputStream seal(OutputStream sink, Origin origin, String objectId) throws IOException;

    /**
     * Opens the attachment sealed for {@code objectId}: decrypts it with whichever storage key it
     * names and yields the original bytes. Objects sealed before the chunked format (a CMS
     * AuthEnvelopedData, which is not bound to an id) open too. When the stream reaches its end it checks the authentication tag, the
     * signature and the signer's certificate chain to the gateway CA, and throws
     * {@link IntegrityException} instead of reporting the end if any of them fails. Parse errors
     * are reported as {@link IntegrityException} too. Callers that must not release unverified
     * bytes read the stream to its end first.
     */
    OpenedAttachment open(InputStream sealed, String objectId) throws IOException;

    /**
     * Writes a CMS EnvelopedData for {@code recipient} (RSA: RSAES-OAEP; EC: ECDH key agreement;
     * content AES-256-CBC for the widest interoperability) containing the stored SignedData
     * unchanged. Throws {@link IntegrityException} if a tag of the stored object fails; the caller
     * must then discard what was written. Does not close either stream.
     */
    void reseal(InputStream sealed, String objectId, X509Certificate recipient, OutputStream sink) throws IOException;

    /** The alias of the storage key that {@link #seal} encrypts to. */
    String currentStorageKeyId();

    /** The plaintext of an opened attachment; {@link #origin()} is known once it has been read to the end. */
    abstract class OpenedAttachment extends InputStream {

        /** The organisation named in the verified signature, or null before the end was reached. */
        public abstract Origin origin();
    }
}
