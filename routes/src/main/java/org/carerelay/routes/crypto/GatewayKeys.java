package org.carerelay.routes.crypto;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The gateway's key material: the CA that certifies the signing key, the signing key that signs
 * every attachment, and the storage keys that attachments are encrypted to at rest. The newest
 * storage key encrypts new objects; every older one still decrypts.
 */
public interface GatewayKeys {

    X509Certificate caCertificate();

    PrivateKey signingKey();

    /** The signing certificate first, then its issuers up to (and including) the CA. */
    List<X509Certificate> signingChain();

    /** The storage key new objects are encrypted to. */
    StorageKey currentStorageKey();

    /** Every storage key, current and retired. */
    List<StorageKey> storageKeys();

    /** A storage key pair, named by its keystore alias. */
    record StorageKey(String alias, X509Certificate certificate, PrivateKey privateKey) {
    }
}
