package org.carerelay.fhir.directory;

import java.util.List;

/**
 * A directory CSV file was rejected as a whole. {@link #errors()} holds every problem found in the
 * file (not only the first), ordered by line; the message lists them as
 * {@code line 4, column fax: ...}.
 */
public class DirectoryCsvException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** At most this many errors are spelled out in {@link #getMessage()}; {@link #errors()} has all. */
    static final int MAX_ERRORS_IN_MESSAGE = 50;

    /**
     * One problem in the file.
     *
     * @param line    1-based physical line on which the offending record starts (the header's line
     *                for header problems)
     * @param column  the column name (lower case) the problem concerns, or {@code null} when it
     *                concerns the record as a whole (e.g. wrong number of fields, CSV syntax)
     * @param message what is wrong, in English
     */
    public record RowError(int line, String column, String message) {

        /** {@code line 4, column fax: message}, or {@code line 4: message} without a column. */
        public String describe() {
            return column == null
                    ? "line " + line + ": " + message
                    : "line " + line + ", column " + column + ": " + message;
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    private final transient List<RowError> errors;

    public DirectoryCsvException(List<RowError> errors) {
        super(buildMessage(errors));
        this.errors = List.copyOf(errors);
    }

    /** Every error found, in file order; never empty. */
    public List<RowError> errors() {
        return errors;
    }

    private static String buildMessage(List<RowError> errors) {
        StringBuilder sb = new StringBuilder("Directory CSV is invalid, nothing was imported (")
                .append(errors.size()).append(errors.size() == 1 ? " error):" : " errors):");
        int shown = Math.min(errors.size(), MAX_ERRORS_IN_MESSAGE);
        for (int i = 0; i < shown; i++) {
            sb.append('\n').append(errors.get(i).describe());
        }
        if (errors.size() > shown) {
            sb.append("\n... and ").append(errors.size() - shown).append(" more");
        }
        return sb.toString();
    }
}
