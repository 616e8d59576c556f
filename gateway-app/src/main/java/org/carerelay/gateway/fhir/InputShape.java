package org.carerelay.gateway.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.carerelay.fhir.ErrorCode;

/**
 * A streaming pass over a request body before HAPI builds a resource from it, so that what a
 * parser or the database cannot take, or what costs minutes of server time, is refused in
 * milliseconds: text with NUL or an unpaired UTF-16 surrogate (PostgreSQL refuses NUL in text;
 * a lone surrogate cannot be encoded), arrays directly inside arrays and extensions that are not
 * objects (not FHIR JSON at all; HAPI's parser fails on them with a NullPointerException),
 * and bodies with more elements, longer lists or deeper nesting than any resource the gateway
 * serves needs. The body size is bounded before this runs; these bounds do the same for shape.
 */
public final class InputShape {

    /** Most elements (JSON values and names, XML elements and attributes) in one body. */
    public static final int MAX_ELEMENTS = 200_000;
    /** Most items in one JSON array, or children of one XML element. */
    public static final int MAX_LIST_LENGTH = 5_000;
    /** Deepest nesting of objects/arrays (JSON) or elements (XML). */
    public static final int MAX_DEPTH = 48;
    /** Longest number literal; FHIR decimals carry at most 18 significant digits. */
    static final int MAX_NUMBER_LENGTH = 64;

    private InputShape() {
    }

    /** Why a body, a parameter or a header is refused. */
    public record Violation(ErrorCode code, String message) {
    }

    /** Whether {@code text} holds a NUL character or a UTF-16 surrogate without its partner. */
    public static boolean hasForbiddenCharacter(CharSequence text) {
        if (text == null) {
            return false;
        }
        int length = text.length();
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c == 0) {
                return true;
            }
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else {
                    return true;
                }
            } else if (Character.isLowSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /** The refusal for a name or value with a forbidden character. */
    public static Violation forbiddenCharacterIn(String where) {
        return new Violation(ErrorCode.INVALID_CHARACTER,
                "The " + where + " contains a NUL character or an unpaired UTF-16 surrogate.");
    }

    private static final int ANY = 0;
    private static final int OBJECTS = 1;
    private static final int OBJECTS_OR_NULL = 2;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxNumberLength(MAX_NUMBER_LENGTH)
                    .maxStringLength(Integer.MAX_VALUE) // the body size is already bounded
                    .build())
            .build();

    /** Checks a JSON body; null when it may go on to HAPI. */
    public static Violation checkJson(byte[] body) {
        // per open array, innermost first: item count, and 1 where items must be objects (extensions)
        Deque<int[]> arrays = new ArrayDeque<>();
        int elements = 0;
        try (JsonParser parser = JSON.createParser(body)) {
            JsonToken token;
            while ((token = parser.nextToken()) != null) {
                if (++elements > MAX_ELEMENTS) {
                    return tooComplex("more than " + MAX_ELEMENTS + " elements");
                }
                JsonStreamContext context = parser.getParsingContext();
                switch (token) {
                    case START_OBJECT, START_ARRAY -> {
                        JsonStreamContext enclosing = context.getParent();
                        if (enclosing != null && enclosing.inArray()) {
                            if (token == JsonToken.START_ARRAY) {
                                return new Violation(ErrorCode.INVALID_REQUEST,
                                        "An array directly inside an array is not FHIR JSON (at "
                                                + enclosing.pathAsPointer() + ").");
                            }
                            if (++arrays.peek()[0] > MAX_LIST_LENGTH) {
                                return tooLong();
                            }
                        }
                        if (token == JsonToken.START_ARRAY) {
                            String name = enclosing == null ? null : enclosing.getCurrentName();
                            // HAPI's parser fails on an extension that is not an object; so do we, politely
                            int items = "extension".equals(name) || "modifierExtension".equals(name) ? OBJECTS
                                    : name != null && name.startsWith("_") ? OBJECTS_OR_NULL : ANY;
                            arrays.push(new int[] {0, items});
                        }
                    }
                    case END_ARRAY -> arrays.pop();
                    case END_OBJECT -> {
                    }
                    case FIELD_NAME -> {
                        if (hasForbiddenCharacter(parser.currentName())) {
                            return forbiddenCharacterIn("body");
                        }
                    }
                    default -> {
                        if (token == JsonToken.VALUE_STRING && hasForbiddenCharacter(parser.getText())) {
                            return forbiddenCharacterIn("body");
                        }
                        if (context.inArray()) {
                            int[] array = arrays.peek();
                            if (array[1] == OBJECTS || array[1] == OBJECTS_OR_NULL && token != JsonToken.VALUE_NULL) {
                                return new Violation(ErrorCode.INVALID_REQUEST,
                                        "An item of an extension list is not an object (at " + context.pathAsPointer() + ").");
                            }
                            if (++array[0] > MAX_LIST_LENGTH) {
                                return tooLong();
                            }
                        }
                    }
                }
            }
            return null;
        } catch (StreamConstraintsException e) {
            return tooComplex("nesting deeper than " + MAX_DEPTH + " levels or a number longer than "
                    + MAX_NUMBER_LENGTH + " digits");
        } catch (IOException e) {
            // the parser's message quotes the body; the client gets the location only
            String at = e instanceof JsonProcessingException jpe && jpe.getLocation() != null
                    ? " (line " + jpe.getLocation().getLineNr() + ", column " + jpe.getLocation().getColumnNr() + ")"
                    : "";
            return new Violation(ErrorCode.INVALID_REQUEST, "The body is not well-formed JSON" + at + ".");
        }
    }

    private static final XMLInputFactory XML = xmlFactory();

    private static XMLInputFactory xmlFactory() {
        XMLInputFactory factory = XMLInputFactory.newFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        factory.setProperty(XMLInputFactory.IS_REPLACING_ENTITY_REFERENCES, false);
        factory.setProperty(XMLInputFactory.IS_COALESCING, false);
        return factory;
    }

    /** Checks an XML body (already free of DOCTYPE and entity declarations); null when it may go on to HAPI. */
    public static Violation checkXml(byte[] body) {
        Deque<int[]> children = new ArrayDeque<>();
        int elements = 0;
        XMLStreamReader reader = null;
        try {
            reader = XML.createXMLStreamReader(new ByteArrayInputStream(body));
            while (reader.hasNext()) {
                int event = reader.next();
                switch (event) {
                    case XMLStreamConstants.START_ELEMENT -> {
                        elements += 1 + reader.getAttributeCount();
                        if (elements > MAX_ELEMENTS) {
                            return tooComplex("more than " + MAX_ELEMENTS + " elements");
                        }
                        if (!children.isEmpty() && ++children.peek()[0] > MAX_LIST_LENGTH) {
                            return tooComplex("an element with more than " + MAX_LIST_LENGTH + " children");
                        }
                        children.push(new int[1]);
                        if (children.size() > MAX_DEPTH) {
                            return tooComplex("nesting deeper than " + MAX_DEPTH + " levels");
                        }
                        for (int i = 0; i < reader.getAttributeCount(); i++) {
                            if (hasForbiddenCharacter(reader.getAttributeValue(i))) {
                                return forbiddenCharacterIn("body");
                            }
                        }
                    }
                    case XMLStreamConstants.END_ELEMENT -> children.pop();
                    case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA, XMLStreamConstants.SPACE -> {
                        if (hasForbiddenCharacter(reader.getText())) {
                            return forbiddenCharacterIn("body");
                        }
                    }
                    default -> {
                    }
                }
            }
            return null;
        } catch (XMLStreamException | RuntimeException e) {
            return new Violation(ErrorCode.INVALID_REQUEST, "The body is not well-formed XML.");
        } finally {
            if (reader != null) {
                try {
                    reader.close();
                } catch (XMLStreamException ignored) {
                    // nothing held
                }
            }
        }
    }

    private static Violation tooLong() {
        return tooComplex("a list with more than " + MAX_LIST_LENGTH + " items");
    }

    private static Violation tooComplex(String what) {
        return new Violation(ErrorCode.RESOURCE_TOO_COMPLEX, "The body has " + what + "; the gateway accepts at most "
                + MAX_ELEMENTS + " elements, " + MAX_LIST_LENGTH + " items per list and " + MAX_DEPTH + " levels.");
    }
}
