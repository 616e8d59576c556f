package org.carerelay.routes.crypto;

import java.io.IOException;

/**
 * A sealed attachment whose authentication tag or signature does not verify, or that does not
 * parse as the expected CMS structure. An IOException so that it can surface from a stream.
 */
public class IntegrityException extends IOException {

    public IntegrityException(String message) {
        super(message);
    }

    public IntegrityException(String message, Throwable cause) {
        super(message, cause);
    }
}
