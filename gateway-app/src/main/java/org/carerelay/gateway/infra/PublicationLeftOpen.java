package org.carerelay.gateway.infra;

/**
 * Thrown by an asynchronous event listener that could not finish and has logged why: its event
 * publication stays open, to be resubmitted, and the failure is not logged a second time (no stack
 * trace). The message names ids only.
 */
public class PublicationLeftOpen extends RuntimeException {

    public PublicationLeftOpen(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
