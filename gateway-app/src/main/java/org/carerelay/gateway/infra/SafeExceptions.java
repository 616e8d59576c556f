package org.carerelay.gateway.infra;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What of an exception may go into the log: the classes of its cause chain, SQLStates and where
 * it was thrown, never a message. Messages quote data: a PostgreSQL error names the failing row
 * or parameter value, a parser quotes the body, a mapper the field it could not convert, so a
 * message may hold patient data.
 */
public final class SafeExceptions {

    private static final int MAX_CAUSES = 8;

    private SafeExceptions() {
    }

    /**
     * E.g. {@code UncategorizedSQLException <- PSQLException[SQLState 22P05] at
     * org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse:2733, first own frame
     * org.carerelay.gateway.store.ResourceStore.insert:120}.
     */
    public static String describe(Throwable error) {
        if (error == null) {
            return "-";
        }
        StringBuilder out = new StringBuilder();
        Map<Throwable, Boolean> seen = new LinkedHashMap<>();
        Throwable root = error;
        for (Throwable t = error; t != null && seen.put(t, Boolean.TRUE) == null && seen.size() <= MAX_CAUSES;
                t = t.getCause()) {
            if (t != error) {
                out.append(" <- ");
            }
            out.append(t.getClass().getName());
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                out.append("[SQLState ").append(sql.getSQLState()).append(']');
            }
            root = t;
        }
        StackTraceElement[] frames = root.getStackTrace();
        if (frames.length > 0) {
            out.append(" at ").append(frame(frames[0]));
        }
        // the first frame of our own code, from the innermost exception outwards
        List<Throwable> chain = new ArrayList<>(seen.keySet());
        Collections.reverse(chain);
        for (Throwable t : chain) {
            for (StackTraceElement frame : t.getStackTrace()) {
                if (frame.getClassName().startsWith("org.carerelay.")) {
                    return out.append(", first own frame ").append(frame(frame)).toString();
                }
            }
        }
        return out.toString();
    }

    private static String frame(StackTraceElement frame) {
        return frame.getClassName() + "." + frame.getMethodName() + ":" + frame.getLineNumber();
    }
}
