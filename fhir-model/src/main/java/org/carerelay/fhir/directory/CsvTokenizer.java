package org.carerelay.fhir.directory;

import java.util.ArrayList;
import java.util.List;

/**
 * A small RFC 4180 tokenizer: comma separated, fields optionally quoted with {@code "} (a quote
 * inside a quoted field is doubled), quoted fields may span lines. Line breaks are {@code \r\n},
 * {@code \n} or a lone {@code \r}; inside quoted fields every line break becomes {@code \n}. A
 * leading UTF-8 byte order mark is dropped, blank lines and lines starting with {@code #} are
 * skipped. Whitespace between a closing quote and the next separator is tolerated, as is whitespace
 * before an opening quote.
 *
 * <p>Each record remembers the 1-based physical line it starts on. A syntax error (stray quote,
 * text after a closing quote) is attached to its record and tokenizing goes on with the next
 * record; an unterminated quoted field swallows the rest of the input, so it ends tokenizing.
 */
final class CsvTokenizer {

    /** One logical CSV record. {@code syntaxError} is {@code null} when the record is well-formed. */
    record Record(int line, List<String> fields, String syntaxError) {
    }

    private final String text;
    private int pos;
    private int line = 1;

    private CsvTokenizer(String text) {
        this.text = text;
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            pos = 1;
        }
    }

    static List<Record> tokenize(String text) {
        return new CsvTokenizer(text).records();
    }

    private List<Record> records() {
        List<Record> records = new ArrayList<>();
        while (pos < text.length()) {
            int startLine = line;
            if (text.charAt(pos) == '#') {
                skipRestOfLine();
                continue;
            }
            List<String> fields = new ArrayList<>();
            String error = null;
            boolean endOfRecord = false;
            while (!endOfRecord) {
                FieldResult field = readField();
                fields.add(field.value);
                if (error == null) {
                    error = field.error;
                }
                if (field.fatal) {
                    records.add(new Record(startLine, fields, error));
                    return records;
                }
                if (pos >= text.length()) {
                    endOfRecord = true;
                } else {
                    char c = text.charAt(pos);
                    if (c == ',') {
                        pos++;
                    } else {
                        consumeLineBreak();
                        endOfRecord = true;
                    }
                }
            }
            if (fields.size() == 1 && fields.get(0).isBlank() && error == null) {
                continue; // blank line
            }
            records.add(new Record(startLine, List.copyOf(fields), error));
        }
        return records;
    }

    private record FieldResult(String value, String error, boolean fatal) {
    }

    /** Reads one field; leaves {@code pos} on the separator, the line break or the end of input. */
    private FieldResult readField() {
        int lookahead = pos;
        while (lookahead < text.length() && isBlank(text.charAt(lookahead))) {
            lookahead++;
        }
        if (lookahead < text.length() && text.charAt(lookahead) == '"') {
            pos = lookahead + 1;
            return readQuoted();
        }
        StringBuilder value = new StringBuilder();
        String error = null;
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ',' || c == '\r' || c == '\n') {
                break;
            }
            if (c == '"' && error == null) {
                error = "a quote (\") inside an unquoted field; quote the whole field and double the quote";
            }
            value.append(c);
            pos++;
        }
        return new FieldResult(value.toString(), error, false);
    }

    private FieldResult readQuoted() {
        StringBuilder value = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                return new FieldResult(value.toString(),
                        "quoted field is not terminated (missing closing quote)", true);
            }
            char c = text.charAt(pos);
            if (c == '"') {
                if (pos + 1 < text.length() && text.charAt(pos + 1) == '"') {
                    value.append('"');
                    pos += 2;
                    continue;
                }
                pos++;
                break;
            }
            if (c == '\r' || c == '\n') {
                consumeLineBreak();
                value.append('\n');
                continue;
            }
            value.append(c);
            pos++;
        }
        while (pos < text.length() && isBlank(text.charAt(pos))) {
            pos++;
        }
        if (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ',' && c != '\r' && c != '\n') {
                while (pos < text.length() && text.charAt(pos) != ',' && text.charAt(pos) != '\r'
                        && text.charAt(pos) != '\n') {
                    pos++;
                }
                return new FieldResult(value.toString(), "unexpected text after the closing quote of a field", false);
            }
        }
        return new FieldResult(value.toString(), null, false);
    }

    private void skipRestOfLine() {
        while (pos < text.length() && text.charAt(pos) != '\r' && text.charAt(pos) != '\n') {
            pos++;
        }
        consumeLineBreak();
    }

    /** Consumes one line break at {@code pos}, if there is one, and counts the line. */
    private void consumeLineBreak() {
        if (pos >= text.length()) {
            return;
        }
        char c = text.charAt(pos);
        if (c == '\r') {
            pos++;
            if (pos < text.length() && text.charAt(pos) == '\n') {
                pos++;
            }
            line++;
        } else if (c == '\n') {
            pos++;
            line++;
        }
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }
}
