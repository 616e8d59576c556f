package org.carerelay.gateway.infra;

/**
 * A start that cannot succeed for a reason the operator can fix: {@link #getMessage()} is one
 * sentence saying what is wrong and which setting to change. {@link OperatorFailureAnalyzer} prints
 * it instead of a stack trace.
 */
public class StartupFailure extends RuntimeException {

    private final String action;

    public StartupFailure(String description, String action) {
        super(description, null, false, false);
        this.action = action;
    }

    public String action() {
        return action;
    }
}
