package org.carerelay.fhir.hl7;

import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import org.carerelay.fhir.content.ContentTypes;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.StringType;

/**
 * Maps an inbound HL7 v2 {@code MDM} message (T01/T02 …, any structure: segments are read by name
 * in message order) to its document text, attachments and TXA data ({@link #map}), and those to a
 * FHIR R4 {@link Communication} ({@link #toCommunication}). The reverse of {@link CommunicationToMdm}.
 * Pure and stateless. Field-by-field mapping: docs/mappings.md, section 3 "MDM → Communication".
 */
public final class MdmToCommunication {

    /** Identifier system of the document number (TXA-12-1) on the Communication. */
    public static final String DOCUMENT_NUMBER_SYSTEM = "https://fhir.carerelay.org/sid/hl7-document-number";

    /** HL7 table 0270 (document type): the codes the FHIR terminology knows. */
    private static final Set<String> TABLE_0270 = Set.of(
            "AR", "CD", "CN", "DI", "DS", "ED", "HP", "OP", "PC", "PH", "PN", "PR", "SP", "TS");
    private static final Set<String> TEXT_TYPES = Set.of("TX", "FT", "ST");
    /** ED-2 values taken as a MIME top-level type (with ED-3 as subtype). */
    private static final Set<String> MIME_TOP_LEVEL_TYPES = Set.of("application", "image", "text", "audio", "video");
    private static final String ATTACHMENT_PREFIX = CommunicationToMdm.ATTACHMENT_OBSERVATION + ":";

    private MdmToCommunication() {
    }

    /**
     * One attachment. A record with an array: {@code equals} compares the array by identity.
     *
     * @param contentType MIME type, see {@link #contentType(String, String)}
     * @param data        the decoded bytes; never empty
     * @param title       the OBX-3 text (without CareRelay's "Anhang: " prefix), or {@code null}
     */
    public record Attachment(String contentType, byte[] data, String title) {

        public Attachment {
            Objects.requireNonNull(contentType, "contentType");
            Objects.requireNonNull(data, "data");
        }
    }

    /**
     * What an MDM message holds. Records with arrays compare by identity: compare the fields.
     *
     * @param text                     the document text, lines joined with {@code \n}; empty (not
     *                                 {@code null}) if there is none
     * @param attachments              the non-empty attachments, in message order
     * @param documentNumber           TXA-12-1, or {@code null}
     * @param documentAuthority        TXA-12-2 to TXA-12-4 (namespace, universal id and its type) as
     *                                 sent, each {@code null} where empty; {@code null} without TXA-12
     * @param documentType             TXA-2 (HL7 table 0270, e.g. {@code DS}), or {@code null}
     * @param title                    TXA-25, else an OBX-3 text (docs/mappings.md, section 3), or {@code null}
     * @param activityTime             TXA-4, or {@code null}
     * @param skippedEmptyAttachments  ED values without data
     * @param skippedReferencePointers RP values (not followed)
     */
    public record Result(String text, List<Attachment> attachments, String documentNumber, String[] documentAuthority,
                         String documentType,
                         String title, Instant activityTime, int skippedEmptyAttachments,
                         int skippedReferencePointers) {

        public Result {
            text = text == null ? "" : text;
            attachments = attachments == null ? List.of() : List.copyOf(attachments);
        }
    }

    /**
     * Reads the document of an MDM message.
     *
     * @throws IllegalArgumentException if the message is not an MDM message, an ED value has an
     *                                  unknown encoding (ED-4) or data that is not valid for its
     *                                  encoding
     */
    public static Result map(Message mdm) {
        Objects.requireNonNull(mdm, "mdm");
        String[] type = V2Support.messageType(mdm);
        if (!"MDM".equals(type[0])) {
            throw new IllegalArgumentException("Not an MDM message: MSH-9 " + type[0] + "^" + type[1]);
        }
        char escape = V2Support.escapeCharacter(mdm);
        List<Segment> segments = V2Support.segments(mdm);
        Segment txa = V2Support.first(segments, "TXA");

        List<String> lines = new ArrayList<>();
        List<Attachment> attachments = new ArrayList<>();
        String obxTitle = null;
        int skippedEmpty = 0;
        int skippedPointers = 0;
        int obxNumber = 0;
        for (Segment obx : segments) {
            if (!"OBX".equals(obx.getName())) {
                continue;
            }
            obxNumber++;
            String valueType = upper(V2Support.value(obx, 2, 1));
            String label = observationText(obx);
            if (TEXT_TYPES.contains(valueType)) {
                int reps = V2Support.repetitions(obx, 5);
                if (reps == 0) {
                    lines.add("");
                }
                for (int rep = 0; rep < reps; rep++) {
                    lines.add(V2Support.text(obx, 5, rep, escape));
                }
                if (obxTitle == null && label != null && !isOwnLabel(label)) {
                    obxTitle = label;
                }
            } else if ("ED".equals(valueType)) {
                String attachmentTitle = attachmentTitle(label);
                for (int rep = 0; rep < V2Support.repetitions(obx, 5); rep++) {
                    String data = V2Support.value(obx, 5, rep, 5, 1);
                    if (data == null) {
                        skippedEmpty++;
                        continue;
                    }
                    String encoding = V2Support.value(obx, 5, rep, 4, 1);
                    byte[] bytes;
                    try {
                        bytes = decode(encoding, edData(data, encoding, escape));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("OBX #" + obxNumber + " (OBX-1 "
                                + V2Support.value(obx, 1, 1) + "): " + e.getMessage(), e);
                    }
                    if (bytes.length == 0) {
                        skippedEmpty++;
                        continue;
                    }
                    String contentType = contentType(V2Support.value(obx, 5, rep, 2, 1),
                            V2Support.value(obx, 5, rep, 3, 1));
                    attachments.add(new Attachment(contentType, bytes, attachmentTitle));
                }
                if (obxTitle == null && attachmentTitle != null) {
                    obxTitle = attachmentTitle;
                }
            } else if ("RP".equals(valueType)) {
                skippedPointers += Math.max(1, V2Support.repetitions(obx, 5));
            }
        }

        String title = txa == null ? null : V2Support.value(txa, 25, 1);
        if (title == null) {
            title = obxTitle;
        }
        return new Result(String.join("\n", lines), attachments,
                txa == null ? null : V2Support.value(txa, 12, 1),
                txa == null ? null : new String[] {V2Support.value(txa, 12, 2), V2Support.value(txa, 12, 3),
                    V2Support.value(txa, 12, 4)},
                txa == null ? null : V2Support.value(txa, 2, 1),
                title,
                txa == null ? null : V2Support.instant(V2Support.value(txa, 4, 1)),
                skippedEmpty, skippedPointers);
    }

    /**
     * A FHIR Communication for {@code r} (docs/mappings.md, section 3, "Building the resource").
     * Subject, sender and recipient are left to the caller.
     */
    public static Communication toCommunication(Result r) {
        Objects.requireNonNull(r, "r");
        Communication communication = new Communication();
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        if (r.documentNumber() != null && !r.documentNumber().isBlank()) {
            Identifier number = communication.addIdentifier().setSystem(DOCUMENT_NUMBER_SYSTEM).setValue(r.documentNumber());
            // the rest of TXA-12 as sent: a reply's TXA-13 names the document exactly so
            String[] authority = r.documentAuthority();
            if (authority != null && authority[0] != null) {
                number.getAssigner().setDisplay(authority[0]);
            }
            if (authority != null && authority[1] != null) {
                number.getAssigner().getIdentifier().setValue(authority[1]);
                if (authority[2] != null) {
                    number.getAssigner().getIdentifier().getType().setText(authority[2]);
                }
            }
        }
        if (r.documentType() != null && TABLE_0270.contains(upper(r.documentType()))) {
            communication.addCategory(new CodeableConcept(
                    new Coding(CommunicationToMdm.DOCUMENT_TYPE_SYSTEM, upper(r.documentType()), null)));
        }
        if (r.title() != null && !r.title().isBlank()) {
            communication.setTopic(new CodeableConcept().setText(r.title()));
        }
        if (r.activityTime() != null) {
            communication.setSent(Date.from(r.activityTime()));
        }
        if (!r.text().isBlank()) {
            communication.addPayload().setContent(new StringType(r.text()));
        }
        for (Attachment attachment : r.attachments()) {
            org.hl7.fhir.r4.model.Attachment content = new org.hl7.fhir.r4.model.Attachment()
                    .setContentType(attachment.contentType())
                    .setData(attachment.data());
            if (attachment.title() != null && !attachment.title().isBlank()) {
                content.setTitle(attachment.title());
            }
            communication.addPayload().setContent(content);
        }
        return communication;
    }

    /**
     * The MIME type of an ED value from ED-2 (type of data) and ED-3 (data subtype, or a full MIME
     * type); see docs/mappings.md, section 3, for the table. Unknown values give
     * {@code application/octet-stream}.
     */
    static String contentType(String typeOfData, String subtype) {
        String type = typeOfData == null ? "" : typeOfData.strip().toLowerCase(Locale.ROOT);
        String sub = subtype == null ? "" : subtype.strip().toLowerCase(Locale.ROOT);
        boolean text = type.equals("text") || type.equals("tx");
        if (sub.indexOf('/') > 0) {
            return ContentTypes.normalize(sub);
        }
        switch (sub) {
            case "pdf":
                return ContentTypes.PDF;
            case "jpeg":
            case "jpg":
                return ContentTypes.JPEG;
            case "png":
                return ContentTypes.PNG;
            case "tiff":
            case "tif":
                return ContentTypes.TIFF;
            case "gif":
                return ContentTypes.GIF;
            case "dicom":
                return ContentTypes.DICOM;
            case "xml":
                return text ? "text/xml" : "application/xml";
            case "html":
                return "text/html";
            case "rtf":
                return "application/rtf";
            case "zip":
                return ContentTypes.ZIP;
            case "postscript":
                return "application/postscript";
            case "octet-stream":
                return "application/octet-stream";
            default:
                break;
        }
        if (!sub.isEmpty() && sub.matches("[a-z0-9][a-z0-9!#$&^_.+-]*") && MIME_TOP_LEVEL_TYPES.contains(type)) {
            return ContentTypes.normalize(type + "/" + sub);
        }
        if (text) {
            return ContentTypes.TEXT;
        }
        return "application/octet-stream";
    }

    /**
     * The bytes of ED-5 per ED-4 ({@code Base64}/{@code B64}, {@code Hex}, {@code A}/{@code ASCII}
     * or empty; docs/mappings.md, section 3).
     *
     * @param data the ED-5 value with formatting escapes decoded (for {@code A}) — Base64 and Hex
     *             ignore escape sequences anyway
     * @throws IllegalArgumentException for any other encoding or invalid data
     */
    static byte[] decode(String encoding, String data) {
        String enc = encoding == null ? "" : encoding.strip().toUpperCase(Locale.ROOT);
        String value = data == null ? "" : data;
        switch (enc) {
            case "BASE64":
            case "B64":
                return base64(value);
            case "HEX":
                return hex(value);
            case "A":
            case "ASCII":
            case "":
                return value.getBytes(StandardCharsets.UTF_8);
            default:
                throw new IllegalArgumentException("Unsupported ED-4 encoding '" + encoding
                        + "' (supported: Base64, Hex, A)");
        }
    }

    private static byte[] base64(String data) {
        String compact = data.replaceAll("\\s+", "").replace('-', '+').replace('_', '/');
        // padding is optional for the decoder; strip it, so that "==" inside chunks is caught below
        int end = compact.length();
        while (end > 0 && compact.charAt(end - 1) == '=') {
            end--;
        }
        compact = compact.substring(0, end);
        if (!compact.matches("[A-Za-z0-9+/]*")) {
            throw new IllegalArgumentException("ED-5 is not valid Base64");
        }
        if (compact.length() % 4 == 1) {
            throw new IllegalArgumentException("ED-5 is not valid Base64 (truncated)");
        }
        return Base64.getDecoder().decode(compact);
    }

    private static byte[] hex(String data) {
        String compact = data.replaceAll("\\s+", "");
        if (compact.length() % 2 != 0 || !compact.matches("[0-9A-Fa-f]*")) {
            throw new IllegalArgumentException("ED-5 is not valid Hex");
        }
        return HexFormat.of().parseHex(compact);
    }

    /**
     * ED-5 ({@code raw}) as {@link #decode(String, String)} takes it: escape sequences dropped for
     * Base64/Hex (ED-4 {@code encoding}; they can only be escaped line breaks there) and decoded
     * for ASCII.
     */
    private static String edData(String raw, String encoding, char escape) {
        String enc = upper(encoding);
        if (enc.equals("BASE64") || enc.equals("B64") || enc.equals("HEX")) {
            return V2Support.stripEscapes(raw, escape);
        }
        return V2Support.decodeFormatting(raw, escape);
    }

    /** OBX-3 text: OBX-3-2, else the CWE original text (OBX-3-9). */
    private static String observationText(Segment obx) {
        String text = V2Support.value(obx, 3, 2);
        return text != null ? text : V2Support.value(obx, 3, 9);
    }

    private static boolean isOwnLabel(String label) {
        return label.equals(CommunicationToMdm.TEXT_OBSERVATION)
                || label.equals(CommunicationToMdm.ATTACHMENT_OBSERVATION);
    }

    /** The attachment title from the OBX-3 text: without CareRelay's "Anhang: " prefix. */
    private static String attachmentTitle(String label) {
        if (label == null || label.equals(CommunicationToMdm.ATTACHMENT_OBSERVATION)) {
            return null;
        }
        if (label.startsWith(ATTACHMENT_PREFIX)) {
            String title = label.substring(ATTACHMENT_PREFIX.length()).strip();
            return title.isEmpty() ? null : title;
        }
        return label;
    }

    private static String upper(String value) {
        return value == null ? "" : value.strip().toUpperCase(Locale.ROOT);
    }
}
