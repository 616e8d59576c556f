package org.carerelay.routes.mllp;

/**
 * Handles one inbound HL7v2 frame and returns the acknowledgement to send back (already encoded).
 * Implemented by the application; must not throw.
 */
public interface Hl7Receiver {

    byte[] receive(byte[] frame, String remoteAddress);
}
