package org.carerelay.fhir;

/** Identifier systems, code systems and extension URLs used across CareRelay. */
public final class Systems {

    private Systems() {
    }

    /** Institutionskennzeichen (IK number), e.g. of hospitals, care services and insurers. */
    public static final String IKNR = "http://fhir.de/sid/arge-ik/iknr";
    /** Betriebsstättennummer of physician practices (KBV). */
    public static final String BSNR = "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_BSNR";
    /** Telematik-ID (gematik). */
    public static final String TELEMATIK_ID = "https://gematik.de/fhir/sid/telematik-id";
    /** Lebenslange Arztnummer. */
    public static final String LANR = "https://fhir.kbv.de/NamingSystem/KBV_NS_Base_ANR";
    /** Krankenversichertennummer (10 characters). */
    public static final String KVNR = "http://fhir.de/sid/gkv/kvid-10";
    /**
     * HL7v2 facility name (MSH-4 sending / MSH-6 receiving facility) an organisation uses, so that
     * inbound and outbound v2 messages can be resolved to a directory entry.
     */
    public static final String HL7_FACILITY = "https://fhir.carerelay.org/sid/hl7-facility";

    /** CareRelay's own organisation types (see {@link OrganizationType}). */
    public static final String ORGANIZATION_TYPE = "https://fhir.carerelay.org/CodeSystem/organization-type";
    /** Extension on Organization: whether the organisation is a registered participant. */
    public static final String EXT_REGISTERED = "https://fhir.carerelay.org/StructureDefinition/registered";
    /**
     * Extension on Organization, repeatable, {@code valueString}: an IPv4/IPv6 address or CIDR range
     * the organisation's systems may send HL7v2 from on the plain MLLP listener. Kept by the
     * operator; without one, the plain listener accepts nothing in the organisation's name.
     */
    public static final String EXT_HL7_ALLOWED_ADDRESS = "https://fhir.carerelay.org/StructureDefinition/hl7-allowed-address";

    public static final String ENDPOINT_CONNECTION_TYPE =
            "http://terminology.hl7.org/CodeSystem/endpoint-connection-type";
    public static final String ENDPOINT_PAYLOAD_TYPE = "http://terminology.hl7.org/CodeSystem/endpoint-payload-type";

    /** HL7 v3 ActCode (for REDACT on masked messages). */
    public static final String ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

    /**
     * Complex extension on Patient (read and search results): the patient's consent situation,
     * sub-extensions {@code status} (valueCode {@code none}, {@code active} or {@code revoked}),
     * {@code consent} (valueReference) and {@code revokedAt} (valueDateTime).
     */
    public static final String EXT_CONSENT_STATUS = "https://fhir.carerelay.org/StructureDefinition/consent-status";
    /** Communication.category: {@code patient-bound} or {@code networking}. */
    public static final String COMMUNICATION_CATEGORY = "https://fhir.carerelay.org/CodeSystem/communication-category";
    public static final String LOINC = "http://loinc.org";
    /** LOINC 59284-0: Patient Consent. */
    public static final String LOINC_PATIENT_CONSENT = "59284-0";
    public static final String CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope";

    public static final String AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type";
    public static final String AUDIT_SUBTYPE = "https://fhir.carerelay.org/CodeSystem/audit-subtype";
    public static final String DICOM_DCM = "http://dicom.nema.org/resources/ontology/DCM";
}
