package org.carerelay.routes.pipeline;

/**
 * A step's failure that belongs to normal operation (the partner is unreachable, answers with a
 * 5xx, times out): the work item is rolled back and the broker redelivers it later. It is logged
 * as one line with stage, message id, recipient, attempt and this reason, without a stack trace;
 * every other failure is logged once with its trace. The message is the operator's reason and
 * holds no message content or patient data.
 */
public class ExpectedRetry extends RuntimeException {

    public ExpectedRetry(String reason) {
        super(reason, null, false, false);
    }
}
