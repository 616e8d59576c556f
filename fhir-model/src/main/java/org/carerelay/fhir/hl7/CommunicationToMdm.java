package org.carerelay.fhir.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.DataTypeException;
import ca.uhn.hl7v2.model.v251.datatype.CE;
import ca.uhn.hl7v2.model.v251.datatype.CX;
import ca.uhn.hl7v2.model.v251.datatype.ED;
import ca.uhn.hl7v2.model.v251.datatype.HD;
import ca.uhn.hl7v2.model.v251.datatype.NM;
import ca.uhn.hl7v2.model.v251.datatype.SN;
import ca.uhn.hl7v2.model.v251.datatype.ST;
import ca.uhn.hl7v2.model.v251.datatype.TS;
import ca.uhn.hl7v2.model.v251.datatype.TX;
import ca.uhn.hl7v2.model.v251.datatype.XAD;
import ca.uhn.hl7v2.model.v251.datatype.XCN;
import ca.uhn.hl7v2.model.v251.datatype.XPN;
import ca.uhn.hl7v2.model.v251.datatype.XTN;
import ca.uhn.hl7v2.model.v251.message.MDM_T02;
import ca.uhn.hl7v2.model.v251.segment.MSH;
import ca.uhn.hl7v2.model.v251.segment.OBX;
import ca.uhn.hl7v2.model.v251.segment.PID;
import ca.uhn.hl7v2.model.v251.segment.TXA;
import ca.uhn.hl7v2.parser.PipeParser;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.MissingResourceException;
import java.util.Objects;
import java.util.TimeZone;
import java.util.stream.Collectors;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.content.ContentTypes;
import org.carerelay.fhir.conversation.Masking;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Range;
import org.hl7.fhir.r4.model.Ratio;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Type;

/**
 * Maps a FHIR R4 {@link Communication} (with its subject {@link Patient}, its resolved attachments
 * and the contained Observations its payload refers to) to an HL7 v2.5.1 {@code MDM^T02}
 * ({@code MSH EVN PID PV1 TXA OBX+}), all values set through HAPI's typed model so delimiters are
 * escaped. A networking message (no patient) gets a PID with only PID-1. Pure and stateless.
 * Field-by-field mapping: docs/mappings.md, section 5 "Communication → MDM^T02".
 */
public final class CommunicationToMdm {

    /** Assigning authority / namespace of CareRelay's own ids (TXA-12, originator ids). */
    public static final String NAMESPACE = "CareRelay";
    /** v2 table 0270 document types, as used in {@code Communication.category} to choose TXA-2. */
    public static final String DOCUMENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0270";
    /** TXA-2 when no category maps: consult note. */
    public static final String DEFAULT_DOCUMENT_TYPE = "CN";
    /** OBX-3 text (CE-2) of text lines. */
    public static final String TEXT_OBSERVATION = "Nachricht";
    /** OBX-3 text (CE-2) of attachments (followed by ": " and the title, if any). */
    public static final String ATTACHMENT_OBSERVATION = "Anhang";
    /**
     * OBX-3 code (CE-1) of every OBX — text and attachments are parts of one document: LOINC 11488-4
     * "Consult note", the document a care partner writes to another about a shared patient.
     */
    public static final String OBSERVATION_CODE = "11488-4";
    /** HL7 table 0396 code of LOINC (CE-3). */
    public static final String LOINC = "LN";

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(BERLIN);
    /** HD-1 / IS values are limited to 20 characters in v2.5.1. */
    private static final int IS_MAX_LENGTH = 20;
    /** HD-2 (ST) is limited to 199 characters in v2.5.1. */
    private static final int HD_UNIVERSAL_ID_MAX_LENGTH = 199;
    private static final String OID_PREFIX = "urn:oid:";
    /** Encodes with HAPI's default validation, as a last check of what was built. Thread-safe. */
    private static final PipeParser PARSER = new PipeParser();

    private CommunicationToMdm() {
    }

    /**
     * What to map.
     *
     * @param communication      the message; must have an id (it becomes TXA-12) and must not be
     *                           masked (meta.security REDACT)
     * @param patient            the subject, or {@code null} for networking messages
     * @param attachments        resolved attachment contents, in payload order; may be empty
     * @param messageControlId   MSH-10, unique per sent message (not per communication: a resend
     *                           gets a new one)
     * @param now                MSH-7 and EVN-2
     * @param parentDocument     TXA-13, the document this one replies to ({@code inResponseTo}) as
     *                           the receiver knows it; {@code null} for a message that is no reply
     */
    public record Input(Communication communication, Patient patient, List<AttachmentContent> attachments,
                        String sendingApplication, String sendingFacility,
                        String receivingApplication, String receivingFacility,
                        String messageControlId, Instant now, DocumentNumber parentDocument) {

        /** A message that is no reply (no TXA-13). */
        public Input(Communication communication, Patient patient, List<AttachmentContent> attachments,
                     String sendingApplication, String sendingFacility,
                     String receivingApplication, String receivingFacility,
                     String messageControlId, Instant now) {
            this(communication, patient, attachments, sendingApplication, sendingFacility, receivingApplication,
                    receivingFacility, messageControlId, now, null);
        }

        public Input {
            Objects.requireNonNull(communication, "communication");
            Objects.requireNonNull(now, "now");
            if (messageControlId == null || messageControlId.isBlank()) {
                throw new IllegalArgumentException("messageControlId (MSH-10) is required");
            }
            attachments = attachments == null ? List.of() : List.copyOf(attachments);
        }
    }

    /**
     * A document number (HL7 {@code EI}): TXA-12 of a document, TXA-13 of the one it replies to.
     *
     * @param number    EI-1, e.g. the id of the Communication, or the number the sending system gave
     * @param namespace EI-2, e.g. {@value #NAMESPACE} for CareRelay's ids; may be {@code null}
     * @param universalId EI-3; may be {@code null}
     * @param universalIdType EI-4; may be {@code null}
     */
    public record DocumentNumber(String number, String namespace, String universalId, String universalIdType) {
        public DocumentNumber {
            if (number == null || number.isBlank()) {
                throw new IllegalArgumentException("document number is required");
            }
        }

        public DocumentNumber(String number, String namespace) {
            this(number, namespace, null, null);
        }
    }

    /**
     * The content of one attachment.
     *
     * @param binaryId    id of the Binary the data was read from (for error messages only)
     * @param contentType the declared MIME type, e.g. {@code application/pdf}
     * @param data        the raw bytes (not Base64)
     * @param title       shown in OBX-3 after "Anhang: "; may be {@code null}
     */
    public record AttachmentContent(String binaryId, String contentType, byte[] data, String title) {
    }

    /**
     * Maps {@code in} to an {@code MDM^T02}.
     *
     * @throws IllegalArgumentException if the communication is masked, has no id, has neither text
     *                                  nor attachments, an attachment has no data, or the patient is
     *                                  not the communication's subject
     */
    public static MDM_T02 map(Input in) {
        Communication communication = in.communication();
        if (Masking.isMasked(communication)) {
            throw new IllegalArgumentException("Masked communication must not be sent as HL7 message");
        }
        String documentId = communication.getIdElement().getIdPart();
        if (documentId == null || documentId.isBlank()) {
            throw new IllegalArgumentException("Communication has no id; it is needed for TXA-12");
        }
        checkSubject(communication, in.patient());
        List<String> lines = textLines(communication);
        boolean observations = communication.getPayload().stream().anyMatch(p -> p.hasContentReference()
                && p.getContentReference().getReference() != null && p.getContentReference().getReference().startsWith("#")
                && containedObservation(communication, p.getContentReference().getReference().substring(1)) != null);
        if (lines.isEmpty() && in.attachments().isEmpty() && !observations) {
            throw new IllegalArgumentException(
                    "Communication has neither text nor attachments; MDM^T02 requires at least one OBX");
        }

        MDM_T02 message = new MDM_T02();
        try {
            fillMsh(message.getMSH(), in);
            message.getEVN().getEventTypeCode().setValue("T02");
            message.getEVN().getRecordedDateTime().getTime().setValue(TS.format(in.now()));
            fillPid(message.getPID(), in.patient());
            message.getPV1().getPatientClass().setValue("N");
            fillTxa(message, communication, documentId, in.parentDocument());

            int setId = 0;
            for (String line : lines) {
                OBX obx = message.getOBSERVATION(setId).getOBX();
                setId++;
                obx.getSetIDOBX().setValue(Integer.toString(setId));
                obx.getValueType().setValue("TX");
                fillObservationIdentifier(obx, TEXT_OBSERVATION);
                TX tx = new TX(message);
                tx.setValue(line);
                obx.getObservationValue(0).setData(tx);
                obx.getObservationResultStatus().setValue("F");
            }
            for (AttachmentContent attachment : in.attachments()) {
                if (attachment == null || attachment.data() == null) {
                    throw new IllegalArgumentException("Attachment without data: "
                            + (attachment == null ? "null" : attachment.binaryId()));
                }
                OBX obx = message.getOBSERVATION(setId).getOBX();
                setId++;
                obx.getSetIDOBX().setValue(Integer.toString(setId));
                obx.getValueType().setValue("ED");
                String title = attachment.title();
                fillObservationIdentifier(obx, title == null || title.isBlank()
                        ? ATTACHMENT_OBSERVATION : ATTACHMENT_OBSERVATION + ": " + title.strip());
                ED ed = new ED(message);
                String type = ContentTypes.normalize(attachment.contentType());
                ed.getTypeOfData().setValue(typeOfData(type));
                ed.getDataSubtype().setValue(dataSubtype(type));
                ed.getEncoding().setValue("Base64");
                ed.getData().setValue(Base64.getEncoder().encodeToString(attachment.data()));
                obx.getObservationValue(0).setData(ed);
                obx.getObservationResultStatus().setValue("F");
            }
            observationRows(message, communication, setId);
        } catch (HL7Exception e) {
            throw new IllegalStateException("Could not build MDM^T02: " + e.getMessage(), e);
        }
        return message;
    }

    /**
     * The contained Observations the payload points at ({@code contentReference #id}, e.g. the
     * vital signs of an ORU^R01) as OBX rows after the text and attachment rows; docs/mappings.md,
     * section 5, "Observation rows". A panel component that repeats a single Observation already
     * written (same code and value) is not written twice.
     *
     * @return the last OBX set id used
     */
    static int observationRows(MDM_T02 message, Communication communication, int setId) throws HL7Exception {
        List<String> written = new ArrayList<>();
        int group = 0;
        for (Communication.CommunicationPayloadComponent payload : communication.getPayload()) {
            if (!payload.hasContentReference() || payload.getContentReference().getReference() == null
                    || !payload.getContentReference().getReference().startsWith("#")) {
                continue;
            }
            String localId = payload.getContentReference().getReference().substring(1);
            Observation observation = containedObservation(communication, localId);
            if (observation == null) {
                continue;
            }
            group++;
            if (observation.hasValue() || !observation.hasComponent()) {
                setId = observationRow(message, ++setId, Integer.toString(group), observation.getCode(), observation.getValue(),
                        observation.hasDataAbsentReason(), observation);
                written.addAll(keys(observation.getCode(), observation.getValue()));
                continue;
            }
            for (Observation.ObservationComponentComponent component : observation.getComponent()) {
                if (keys(component.getCode(), component.getValue()).stream().anyMatch(written::contains)) {
                    continue;
                }
                setId = observationRow(message, ++setId, Integer.toString(group), component.getCode(), component.getValue(),
                        component.hasDataAbsentReason(), observation);
            }
        }
        return setId;
    }

    private static Observation containedObservation(Communication communication, String localId) {
        for (Resource resource : communication.getContained()) {
            String id = resource.getIdElement().getIdPart();
            if (resource instanceof Observation observation && id != null && id.replaceFirst("^#", "").equals(localId)) {
                return observation;
            }
        }
        return null;
    }

    /** {@code system|code=value} for each coding of {@code code}. */
    private static List<String> keys(CodeableConcept code, Type value) {
        String v = value instanceof Quantity q && q.hasValue() ? q.getValue().stripTrailingZeros().toPlainString()
                : value == null ? "" : String.valueOf(value.primitiveValue());
        return code.getCoding().stream().map(c -> c.getSystem() + "|" + c.getCode() + "=" + v).toList();
    }

    private static int observationRow(MDM_T02 message, int setId, String subId, CodeableConcept code,
            Type value, boolean absent, Observation observation) throws HL7Exception {
        OBX obx = message.getOBSERVATION(setId - 1).getOBX();
        obx.getSetIDOBX().setValue(Integer.toString(setId));
        fillCode(obx.getObservationIdentifier(), code);
        obx.getObservationSubID().setValue(subId);
        String valueType = null;
        if (value instanceof Quantity quantity && quantity.hasValue()) {
            if (quantity.hasComparator()) {
                valueType = "SN";
                SN sn = new SN(message);
                sn.getComparator().setValue(quantity.getComparatorElement().getValueAsString());
                sn.getNum1().setValue(quantity.getValue().toPlainString());
                obx.getObservationValue(0).setData(sn);
            } else {
                valueType = "NM";
                NM nm = new NM(message);
                nm.setValue(quantity.getValue().toPlainString());
                obx.getObservationValue(0).setData(nm);
            }
            fillUnit(obx.getUnits(), quantity);
        } else if (value instanceof Range range && (range.getLow().hasValue() || range.getHigh().hasValue())) {
            valueType = "SN";
            SN sn = new SN(message);
            if (range.getLow().hasValue()) {
                sn.getNum1().setValue(range.getLow().getValue().toPlainString());
            }
            sn.getSeparatorSuffix().setValue("-");
            if (range.getHigh().hasValue()) {
                sn.getNum2().setValue(range.getHigh().getValue().toPlainString());
            }
            obx.getObservationValue(0).setData(sn);
            fillUnit(obx.getUnits(), range.getLow().hasValue() ? range.getLow() : range.getHigh());
        } else if (value instanceof Ratio ratio && ratio.getNumerator().hasValue() && ratio.getDenominator().hasValue()) {
            valueType = "SN";
            SN sn = new SN(message);
            sn.getNum1().setValue(ratio.getNumerator().getValue().toPlainString());
            sn.getSeparatorSuffix().setValue(":");
            sn.getNum2().setValue(ratio.getDenominator().getValue().toPlainString());
            obx.getObservationValue(0).setData(sn);
        } else if (value instanceof CodeableConcept concept) {
            valueType = "CE";
            CE ce = new CE(message);
            fillCode(ce, concept);
            obx.getObservationValue(0).setData(ce);
        } else if (value instanceof DateTimeType dateTime && dateTime.getValue() != null) {
            valueType = "TS";
            TS ts = new TS(message);
            ts.getTime().setValue(v2DateTime(dateTime));
            obx.getObservationValue(0).setData(ts);
        } else if (value != null && value.isPrimitive() && value.primitiveValue() != null) {
            boolean numeric = value instanceof IntegerType;
            valueType = numeric ? "NM" : "ST";
            if (numeric) {
                NM nm = new NM(message);
                nm.setValue(value.primitiveValue());
                obx.getObservationValue(0).setData(nm);
            } else {
                ST st = new ST(message);
                st.setValue(value.primitiveValue().replaceAll("[\\r\\n]+", " "));
                obx.getObservationValue(0).setData(st);
            }
        }
        if (valueType != null) {
            obx.getValueType().setValue(valueType);
        }
        if (observation.hasReferenceRange() && observation.getReferenceRangeFirstRep().hasText()) {
            obx.getReferencesRange().setValue(observation.getReferenceRangeFirstRep().getText());
        }
        obx.getObservationResultStatus().setValue(valueType == null && absent ? "X" : resultStatus(observation.getStatus()));
        if (observation.hasEffectiveDateTimeType() && observation.getEffectiveDateTimeType().getValue() != null) {
            obx.getDateTimeOfTheObservation().getTime().setValue(v2DateTime(observation.getEffectiveDateTimeType()));
        }
        return setId;
    }

    /** CE: the first two codings (identifier, text, v2 coding system name; then the alternate triplet). */
    private static void fillCode(CE ce, CodeableConcept code) throws DataTypeException {
        List<Coding> codings = code.getCoding().stream().filter(Coding::hasCode).toList();
        if (!codings.isEmpty()) {
            Coding first = codings.get(0);
            ce.getIdentifier().setValue(first.getCode());
            ce.getText().setValue(first.hasDisplay() ? first.getDisplay() : code.getText());
            ce.getNameOfCodingSystem().setValue(v2CodingSystem(first.getSystem()));
        } else {
            ce.getText().setValue(code.getText());
        }
        if (codings.size() > 1) {
            Coding second = codings.get(1);
            ce.getAlternateIdentifier().setValue(second.getCode());
            ce.getAlternateText().setValue(second.getDisplay());
            ce.getNameOfAlternateCodingSystem().setValue(v2CodingSystem(second.getSystem()));
        }
    }

    private static void fillUnit(CE units, Quantity quantity) throws DataTypeException {
        if (quantity.hasCode()) {
            units.getIdentifier().setValue(quantity.getCode());
            units.getNameOfCodingSystem().setValue(v2CodingSystem(quantity.getSystem()));
        }
        if (quantity.hasUnit()) {
            units.getText().setValue(quantity.getUnit());
        }
    }

    /** The v2 name (HL7 table 0396) of a FHIR code system; local systems by their own name, other URIs none. */
    static String v2CodingSystem(String system) {
        if (system == null) {
            return null;
        }
        switch (system) {
            case Systems.LOINC:
                return "LN";
            case OruToObservations.MDC_SYSTEM:
                return "MDC";
            case OruToObservations.SNOMED_SYSTEM:
                return "SCT";
            case OruToObservations.UCUM_SYSTEM:
                return "UCUM";
            default:
                break;
        }
        if (system.startsWith("http://terminology.hl7.org/CodeSystem/v2-") && system.length() == 45) {
            return "HL7" + system.substring(41);
        }
        if (system.startsWith(OruToObservations.LOCAL_CODE_SYSTEM_PREFIX)) {
            String local = URLDecoder.decode(system.substring(OruToObservations.LOCAL_CODE_SYSTEM_PREFIX.length()),
                    StandardCharsets.UTF_8);
            return local.length() <= IS_MAX_LENGTH ? local : null;
        }
        return null;
    }

    /** HL7 table 0085 for an Observation status (the reverse of the ORU mapping). */
    static String resultStatus(Observation.ObservationStatus status) {
        if (status == null) {
            return "F";
        }
        return switch (status) {
            case CORRECTED -> "C";
            case AMENDED -> "A";
            case PRELIMINARY -> "P";
            case REGISTERED -> "I";
            case CANCELLED -> "X";
            case ENTEREDINERROR -> "W";
            default -> "F";
        };
    }

    /** A v2 DTM with the precision and offset of the FHIR dateTime ({@code yyyyMMddHHmmss+zzzz} at most). */
    static String v2DateTime(DateTimeType dateTime) {
        TimeZone zone = dateTime.getTimeZone() != null ? dateTime.getTimeZone() : TimeZone.getTimeZone(BERLIN);
        ZonedDateTime at = dateTime.getValue().toInstant().atZone(zone.toZoneId());
        String pattern = switch (dateTime.getPrecision()) {
            case YEAR -> "yyyy";
            case MONTH -> "yyyyMM";
            case DAY -> "yyyyMMdd";
            case MINUTE -> "yyyyMMddHHmmZ";
            case SECOND -> "yyyyMMddHHmmssZ";
            default -> "yyyyMMddHHmmss.SSSZ";
        };
        return DateTimeFormatter.ofPattern(pattern).format(at);
    }

    /** ER7 encoding of {@code message}, segments separated by {@code \r}. */
    public static String encode(MDM_T02 message) {
        try {
            return PARSER.encode(message);
        } catch (HL7Exception e) {
            throw new IllegalStateException("Could not encode MDM^T02: " + e.getMessage(), e);
        }
    }

    /**
     * OBX-3 as a coded element (v2.5.1 {@code CE}): {@value #OBSERVATION_CODE}^label^LN. The text is
     * CareRelay's German label ("Nachricht", "Anhang: title") rather than LOINC's English display:
     * it is what a receiver shows, and {@link MdmToCommunication} reads the attachment title from it.
     */
    private static void fillObservationIdentifier(OBX obx, String label) throws DataTypeException {
        obx.getObservationIdentifier().getIdentifier().setValue(OBSERVATION_CODE);
        obx.getObservationIdentifier().getText().setValue(label);
        obx.getObservationIdentifier().getNameOfCodingSystem().setValue(LOINC);
    }

    /** ED-2 (HL7 table 0191): images (also DICOM) {@code IM}, text {@code TX}, else {@code AP}. */
    static String typeOfData(String normalizedType) {
        if (normalizedType.startsWith("image/") || ContentTypes.DICOM.equals(normalizedType)) {
            return "IM";
        }
        if (normalizedType.startsWith("text/")) {
            return "TX";
        }
        return "AP";
    }

    /**
     * ED-3 (HL7 table 0291, which follows MIME subtypes): the table's spelling for the common types,
     * otherwise the MIME subtype, or {@code Octet-stream} when no type is known.
     */
    static String dataSubtype(String normalizedType) {
        switch (normalizedType) {
            case ContentTypes.PDF:
                return "PDF";
            case ContentTypes.JPEG:
                return "JPEG";
            case ContentTypes.PNG:
                return "PNG";
            case ContentTypes.TIFF:
                return "TIFF";
            case ContentTypes.GIF:
                return "GIF";
            case ContentTypes.DICOM:
                return "DICOM";
            case "application/xml":
            case "text/xml":
                return "XML";
            case "text/html":
                return "HTML";
            case "application/rtf":
            case "text/rtf":
                return "RTF";
            case "application/octet-stream":
            case "":
                return "Octet-stream";
            default:
                int slash = normalizedType.indexOf('/');
                String subtype = slash >= 0 ? normalizedType.substring(slash + 1) : normalizedType;
                return subtype.isEmpty() ? "Octet-stream" : subtype;
        }
    }

    private static void checkSubject(Communication communication, Patient patient) {
        if (patient == null || !communication.getSubject().hasReference() || !patient.hasIdElement()) {
            return;
        }
        IdType subject = new IdType(communication.getSubject().getReference());
        String subjectId = subject.getIdPart();
        String patientId = patient.getIdElement().getIdPart();
        if (subjectId != null && patientId != null && !subjectId.equals(patientId)) {
            throw new IllegalArgumentException("Patient " + patientId
                    + " is not the subject of the communication (" + subjectId + ")");
        }
    }

    private static List<String> textLines(Communication communication) {
        List<String> lines = new ArrayList<>();
        for (Communication.CommunicationPayloadComponent payload : communication.getPayload()) {
            if (!payload.hasContentStringType()) {
                continue;
            }
            String text = payload.getContentStringType().getValue();
            if (text == null) {
                continue;
            }
            // drop trailing line breaks, so "Text\n" does not give an empty OBX
            text = text.replaceFirst("[\\r\\n]+$", "");
            if (text.isEmpty()) {
                continue;
            }
            // a lone CR is split too: unescaped it would end the segment
            lines.addAll(List.of(text.split("\\r\\n|\\r|\\n", -1)));
        }
        return lines;
    }

    private static void fillMsh(MSH msh, Input in) throws DataTypeException {
        msh.getFieldSeparator().setValue("|");
        msh.getEncodingCharacters().setValue("^~\\&");
        msh.getSendingApplication().getNamespaceID().setValue(in.sendingApplication());
        msh.getSendingFacility().getNamespaceID().setValue(in.sendingFacility());
        msh.getReceivingApplication().getNamespaceID().setValue(in.receivingApplication());
        msh.getReceivingFacility().getNamespaceID().setValue(in.receivingFacility());
        msh.getDateTimeOfMessage().getTime().setValue(TS.format(in.now()));
        msh.getMessageType().getMessageCode().setValue("MDM");
        msh.getMessageType().getTriggerEvent().setValue("T02");
        msh.getMessageType().getMessageStructure().setValue("MDM_T02");
        msh.getMessageControlID().setValue(in.messageControlId());
        msh.getProcessingID().getProcessingID().setValue("P");
        msh.getVersionID().getVersionID().setValue("2.5.1");
        msh.getCharacterSet(0).setValue("UNICODE UTF-8");
    }

    private static void fillPid(PID pid, Patient patient) throws HL7Exception {
        pid.getSetIDPID().setValue("1");
        if (patient == null) {
            return;
        }
        // KVNR first: receivers often only read the first repetition
        List<Identifier> identifiers = patient.getIdentifier().stream()
                .filter(Identifier::hasValue)
                .sorted(Comparator.comparing((Identifier i) -> !Systems.KVNR.equals(i.getSystem())))
                .collect(Collectors.toList());
        int rep = 0;
        for (Identifier identifier : identifiers) {
            CX cx = pid.getPatientIdentifierList(rep++);
            cx.getIDNumber().setValue(identifier.getValue());
            if (Systems.KVNR.equals(identifier.getSystem())) {
                cx.getAssigningAuthority().getNamespaceID().setValue("KVNR");
                cx.getIdentifierTypeCode().setValue("KVNR");
            } else {
                if (identifier.hasSystem()) {
                    fillAuthority(cx.getAssigningAuthority(), identifier.getSystem());
                }
                cx.getIdentifierTypeCode().setValue("PI");
            }
        }

        rep = 0;
        for (HumanName name : patient.getName()) {
            if (!name.hasFamily() && !name.hasGiven()) {
                continue;
            }
            XPN xpn = pid.getPatientName(rep++);
            xpn.getFamilyName().getSurname().setValue(name.getFamily());
            List<String> given = name.getGiven().stream().map(PrimitiveType::getValue)
                    .filter(Objects::nonNull).collect(Collectors.toList());
            if (!given.isEmpty()) {
                xpn.getGivenName().setValue(given.get(0));
            }
            if (given.size() > 1) {
                xpn.getSecondAndFurtherGivenNamesOrInitialsThereof()
                        .setValue(String.join(" ", given.subList(1, given.size())));
            }
            if (name.hasPrefix()) {
                xpn.getPrefixEgDR().setValue(name.getPrefixAsSingleString());
            }
            if (name.hasSuffix()) {
                xpn.getSuffixEgJRorIII().setValue(name.getSuffixAsSingleString());
            }
            if (name.hasUse()) {
                switch (name.getUse()) {
                    case OFFICIAL -> xpn.getNameTypeCode().setValue("L");
                    case MAIDEN -> xpn.getNameTypeCode().setValue("M");
                    case NICKNAME -> xpn.getNameTypeCode().setValue("N");
                    default -> { }
                }
            }
        }

        if (patient.hasBirthDateElement() && patient.getBirthDateElement().getValueAsString() != null) {
            // precision is kept: 1950, 195003 or 19500312
            pid.getDateTimeOfBirth().getTime().setValue(
                    patient.getBirthDateElement().getValueAsString().replace("-", ""));
        }

        if (patient.hasGender()) {
            switch (patient.getGender()) {
                case MALE -> pid.getAdministrativeSex().setValue("M");
                case FEMALE -> pid.getAdministrativeSex().setValue("F");
                case OTHER -> pid.getAdministrativeSex().setValue("O");
                case UNKNOWN -> pid.getAdministrativeSex().setValue("U");
                default -> { }
            }
        }

        rep = 0;
        for (Address address : patient.getAddress()) {
            XAD xad = pid.getPatientAddress(rep++);
            if (address.getLine().size() > 0) {
                xad.getStreetAddress().getStreetOrMailingAddress().setValue(address.getLine().get(0).getValue());
            }
            if (address.getLine().size() > 1) {
                xad.getOtherDesignation().setValue(address.getLine().subList(1, address.getLine().size()).stream()
                        .map(PrimitiveType::getValue).filter(Objects::nonNull).collect(Collectors.joining(", ")));
            }
            xad.getCity().setValue(address.getCity());
            xad.getStateOrProvince().setValue(address.getState());
            xad.getZipOrPostalCode().setValue(address.getPostalCode());
            xad.getCountry().setValue(country(address.getCountry()));
            if (address.getType() == Address.AddressType.POSTAL) {
                xad.getAddressType().setValue("M");
            } else if (address.hasUse()) {
                switch (address.getUse()) {
                    case HOME -> xad.getAddressType().setValue("H");
                    case WORK -> xad.getAddressType().setValue("O");
                    case TEMP -> xad.getAddressType().setValue("C");
                    default -> { }
                }
            }
        }

        int home = 0;
        int business = 0;
        for (ContactPoint telecom : patient.getTelecom()) {
            if (!telecom.hasValue() || !telecom.hasSystem()) {
                continue;
            }
            boolean work = telecom.getUse() == ContactPoint.ContactPointUse.WORK;
            switch (telecom.getSystem()) {
                case PHONE -> {
                    XTN xtn = work ? pid.getPhoneNumberBusiness(business++) : pid.getPhoneNumberHome(home++);
                    xtn.getTelephoneNumber().setValue(telecom.getValue());
                    xtn.getTelecommunicationUseCode().setValue(work ? "WPN" : "PRN");
                    xtn.getTelecommunicationEquipmentType().setValue(
                            telecom.getUse() == ContactPoint.ContactPointUse.MOBILE ? "CP" : "PH");
                }
                case FAX -> {
                    XTN xtn = work ? pid.getPhoneNumberBusiness(business++) : pid.getPhoneNumberHome(home++);
                    xtn.getTelephoneNumber().setValue(telecom.getValue());
                    xtn.getTelecommunicationUseCode().setValue(work ? "WPN" : "PRN");
                    xtn.getTelecommunicationEquipmentType().setValue("FX");
                }
                case EMAIL -> {
                    XTN xtn = work ? pid.getPhoneNumberBusiness(business++) : pid.getPhoneNumberHome(home++);
                    xtn.getTelecommunicationUseCode().setValue("NET");
                    xtn.getTelecommunicationEquipmentType().setValue("Internet");
                    xtn.getEmailAddress().setValue(telecom.getValue());
                }
                default -> { }
            }
        }
    }

    private static void fillTxa(MDM_T02 message, Communication communication, String documentId,
            DocumentNumber parentDocument) throws HL7Exception {
        TXA txa = message.getTXA();
        txa.getSetIDTXA().setValue("1");
        txa.getDocumentType().setValue(documentType(communication));
        txa.getDocumentContentPresentation().setValue("TX");
        if (communication.hasSent()) {
            txa.getActivityDateTime().getTime().setValue(TS.format(communication.getSent().toInstant()));
        }
        Reference sender = communication.getSender();
        String senderId = organizationId(sender);
        if (senderId != null) {
            // the sender is an organisation; TXA-5 (primary activity provider) and TXA-9 (originator)
            // both carry it, since receivers read either
            fillOrganization(txa.getPrimaryActivityProviderCodeName(0), senderId, sender.getDisplay());
            fillOrganization(txa.getOriginatorCodeName(0), senderId, sender.getDisplay());
        }
        txa.getUniqueDocumentNumber().getEntityIdentifier().setValue(documentId);
        txa.getUniqueDocumentNumber().getNamespaceID().setValue(NAMESPACE);
        if (parentDocument != null) {
            // TXA-13 parent document number: the receiver threads the reply under its own document
            txa.getParentDocumentNumber().getEntityIdentifier().setValue(parentDocument.number());
            txa.getParentDocumentNumber().getNamespaceID().setValue(parentDocument.namespace());
            txa.getParentDocumentNumber().getUniversalID().setValue(parentDocument.universalId());
            txa.getParentDocumentNumber().getUniversalIDType().setValue(parentDocument.universalIdType());
        }
        txa.getDocumentCompletionStatus().setValue("AU");
        txa.getDocumentAvailabilityStatus().setValue("AV");
    }

    private static void fillOrganization(XCN xcn, String id, String display) throws DataTypeException {
        xcn.getIDNumber().setValue(id);
        if (display != null && !display.isBlank()) {
            xcn.getFamilyName().getSurname().setValue(display.strip());
        }
        xcn.getAssigningAuthority().getNamespaceID().setValue(NAMESPACE);
    }

    /** The id of {@code reference} if it points to an Organization, else {@code null}. */
    private static String organizationId(Reference reference) {
        if (reference == null || !reference.hasReference()) {
            return null;
        }
        IdType id = new IdType(reference.getReference());
        String type = id.hasResourceType() ? id.getResourceType() : reference.getType();
        boolean organization = type != null && (type.equals("Organization") || type.endsWith("/Organization"));
        return organization && id.hasIdPart() ? id.getIdPart() : null;
    }

    private static String documentType(Communication communication) {
        for (CodeableConcept category : communication.getCategory()) {
            for (Coding coding : category.getCoding()) {
                if (DOCUMENT_TYPE_SYSTEM.equals(coding.getSystem()) && coding.hasCode()
                        && coding.getCode().length() <= 30) {
                    return coding.getCode();
                }
            }
        }
        return DEFAULT_DOCUMENT_TYPE;
    }

    /**
     * HD for an identifier system: HD-1 a short name (the last segment of the URI, at most 20
     * characters), HD-2 the full system and HD-3 its type ({@code ISO} for OIDs, else {@code URI}).
     */
    private static void fillAuthority(HD hd, String system) throws DataTypeException {
        if (system.startsWith(OID_PREFIX)) {
            String oid = system.substring(OID_PREFIX.length());
            hd.getNamespaceID().setValue(truncate(oid, IS_MAX_LENGTH));
            hd.getUniversalID().setValue(truncate(oid, HD_UNIVERSAL_ID_MAX_LENGTH));
            hd.getUniversalIDType().setValue("ISO");
            return;
        }
        String trimmed = system.replaceAll("[/#:]+$", "");
        int cut = Math.max(trimmed.lastIndexOf('/'), Math.max(trimmed.lastIndexOf('#'), trimmed.lastIndexOf(':')));
        String shortName = cut >= 0 ? trimmed.substring(cut + 1) : trimmed;
        hd.getNamespaceID().setValue(truncate(shortName.isEmpty() ? system : shortName, IS_MAX_LENGTH));
        if (system.length() <= HD_UNIVERSAL_ID_MAX_LENGTH) {
            hd.getUniversalID().setValue(system);
            hd.getUniversalIDType().setValue("URI");
        }
    }

    /** ISO 3166 alpha-3 (HL7 table 0399) for an alpha-2 country code; other values unchanged. */
    private static String country(String country) {
        if (country == null || country.length() != 2) {
            return country;
        }
        try {
            return new Locale("", country.toUpperCase(Locale.ROOT)).getISO3Country();
        } catch (MissingResourceException e) {
            return country;
        }
    }

    private static String truncate(String value, int max) {
        return value.length() <= max ? value : value.substring(0, max);
    }
}
