package org.carerelay.routes.pipeline;

/**
 * A pipeline step's failure in the form that reaches the logs (Camel's error handler, the JMS
 * listener container): the classes of the cause chain and the original throw site, no messages,
 * because a message may quote data (a database error names the failing row or parameter). The
 * broker redelivers the work item as for any other failure.
 */
public final class StepFailedException extends RuntimeException {

    StepFailedException(String routeId, Throwable cause) {
        super(routeId + " failed: " + classChain(cause), null, false, true);
        setStackTrace(rootOf(cause).getStackTrace());
    }

    private static Throwable rootOf(Throwable error) {
        Throwable root = error;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 8; depth++) {
            root = root.getCause();
        }
        return root;
    }

    static String classChain(Throwable error) {
        StringBuilder out = new StringBuilder(error.getClass().getName());
        Throwable t = error;
        for (int depth = 0; t.getCause() != null && t.getCause() != t && depth < 8; depth++) {
            t = t.getCause();
            out.append(" <- ").append(t.getClass().getName());
        }
        return out.toString();
    }
}
