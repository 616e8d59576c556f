package org.carerelay.fhir;

import java.util.Locale;

/**
 * The one catalogue of error codes that CareRelay answers with, over FHIR (as the code of
 * {@code OperationOutcome.issue.details.coding}, system {@link #SYSTEM}) and over HL7v2 (in the
 * {@code ERR} segment). Codes are stable: clients and partner systems switch on them, so a code is
 * never renamed or reused for another meaning.
 */
public enum ErrorCode {
    // --- request / protocol level
    INVALID_REQUEST("invalid-request", 400, "invalid", "207", "The request is malformed."),
    INVALID_RESOURCE("invalid-resource", 422, "invalid", "207", "The resource is not valid."),
    XML_FORBIDDEN_CONSTRUCT("xml-forbidden-construct", 400, "security", "102",
            "XML with a DOCTYPE, DTD or entity declaration is refused."),
    PAYLOAD_TOO_LARGE("payload-too-large", 413, "too-costly", "207", "The request body exceeds the configured limit."),
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type", 415, "not-supported", "200", "The content type is not supported."),
    NOT_SUPPORTED("not-supported", 405, "not-supported", "200", "The operation is not supported."),
    NOT_FOUND("not-found", 404, "not-found", "204", "The resource does not exist or is not visible to the caller."),
    CONFLICT("conflict", 409, "conflict", "207", "The request conflicts with the current state."),
    // --- authentication and authorisation
    UNAUTHENTICATED("unauthenticated", 401, "login", "207", "A valid bearer token is required."),
    FORBIDDEN("forbidden", 403, "forbidden", "207", "The caller is not allowed to do this."),
    UNKNOWN_SENDER("unknown-sender", 403, "security", "204",
            "The sending facility (MSH-4/MSH-3) is not a registered participant."),
    RATE_LIMITED("rate-limited", 429, "throttled", "207", "Too many failed attempts; try again later."),
    // --- registration
    REGISTRATION_NO_CHANNEL("registration-no-channel", 422, "business-rule", "207",
            "The organisation has neither a fax number nor an e-mail address in the directory."),
    REGISTRATION_CODE_INVALID("registration-code-invalid", 422, "security", "207", "The one-time code is wrong."),
    REGISTRATION_CODE_EXPIRED("registration-code-expired", 422, "expired", "207",
            "The one-time code has expired or was used up; request a new one."),
    REGISTRATION_NOT_PENDING("registration-not-pending", 422, "business-rule", "207",
            "No registration is pending for this organisation; request a code first."),
    ORGANIZATION_INACTIVE("organization-inactive", 422, "business-rule", "207", "The organisation is deactivated."),
    NOT_REGISTERED("not-registered", 422, "business-rule", "207", "The organisation is not registered."),
    // --- directory
    CSV_INVALID("csv-invalid", 422, "invalid", "207", "The CSV file is not valid; nothing was imported."),
    DUPLICATE_IDENTIFIER("duplicate-identifier", 409, "duplicate", "205",
            "Another directory entry already carries this identifier."),
    CERTIFICATE_INVALID("certificate-invalid", 422, "invalid", "207", "The certificate is not usable for encryption."),
    ENCRYPTION_CERTIFICATE_MISSING("encryption-certificate-missing", 406, "not-supported", "207",
            "No usable encryption certificate is registered for the caller's organisation."),
    // --- messaging (used by conversations, consent and delivery)
    CONSENT_MISSING("consent-missing", 422, "business-rule", "207", "The patient has no active consent."),
    CONSENT_REVOKED("consent-revoked", 422, "business-rule", "207", "The patient's consent was revoked."),
    RECIPIENT_NOT_COVERED("recipient-not-covered", 422, "business-rule", "207",
            "A recipient is not a permitted partner in the patient's consent."),
    UNKNOWN_RECIPIENT("unknown-recipient", 422, "not-found", "204", "A recipient is not in the directory."),
    INTEGRITY_FAILURE("integrity-failure", 422, "security", "207", "A signature or checksum did not verify."),
    // --- input hardening (characters, resource shape)
    INVALID_CHARACTER("invalid-character", 400, "invalid", "102",
            "The request contains a NUL character or an unpaired UTF-16 surrogate."),
    RESOURCE_TOO_COMPLEX("resource-too-complex", 413, "too-costly", "207",
            "The resource has too many elements, too long a list or too deep a nesting."),
    // --- token lifetime and deactivated organisations
    TOKEN_EXPIRED("token-expired", 401, "expired", "207",
            "The token is older than the operator's maximum token age; rotate it ($rotate-token) or register again."),
    ORGANIZATION_DEACTIVATED("organization-deactivated", 401, "security", "207",
            "The organisation's directory entry is deactivated; its token is not accepted."),
    // --- HL7v2 sender authentication and delivery loops
    SENDER_NOT_AUTHENTICATED("sender-not-authenticated", 403, "security", "204",
            "The connection is not authenticated as the sending organisation (MSH-4): neither its client certificate nor "
                    + "an address on the organisation's HL7 allow-list."),
    LOOPED_MESSAGE("looped-message", 422, "business-rule", "207",
            "The message was sent by this gateway itself and is not accepted back (delivery loop)."),
    ADDRESS_RANGE_INVALID("address-range-invalid", 422, "invalid", "207",
            "An HL7 allow-list entry is not an IPv4 or IPv6 address or CIDR range."),
    // --- patients and consents (who may change a consent)
    CONSENT_NOT_AUTHOR("consent-not-author", 403, "forbidden", "207",
            "Only the organisation that uploaded the signed consent changes it; any named partner may record a revocation."),
    CONSENT_NEW_DOCUMENT_REQUIRED("consent-new-document-required", 422, "business-rule", "207",
            "Adding partners to a consent needs a newly signed consent document."),
    // --- operations: the database or the broker cannot be reached; nothing was stored, send again later
    SERVICE_UNAVAILABLE("service-unavailable", 503, "transient", "207",
            "The service is temporarily unavailable; nothing was stored. Send the request again later."),
    // --- FHIR REST conformance: versioned updates (If-Match)
    VERSION_CONFLICT("version-conflict", 412, "conflict", "207",
            "The resource is not at the version the request's If-Match names; nothing was changed."),
    // --- German identifiers and base-profile material (check digits of IK number, KVNR, LANR)
    IDENTIFIER_INVALID("identifier-invalid", 422, "value", "102",
            "An identifier does not have the format or the check digit its system requires (IK number, KVNR, LANR, BSNR)."),
    // --- last resort
    INTERNAL_ERROR("internal-error", 500, "exception", "207", "An internal error occurred; nothing was changed.");

    /** Code system of the codes in {@code OperationOutcome.issue.details.coding}. */
    public static final String SYSTEM = "https://fhir.carerelay.org/CodeSystem/error";

    private final String code;
    private final int httpStatus;
    private final String fhirIssueType;
    private final String hl7ErrorCode;
    private final String defaultText;

    ErrorCode(String code, int httpStatus, String fhirIssueType, String hl7ErrorCode, String defaultText) {
        this.code = code;
        this.httpStatus = httpStatus;
        this.fhirIssueType = fhirIssueType;
        this.hl7ErrorCode = hl7ErrorCode;
        this.defaultText = defaultText;
    }

    /** The stable code, e.g. {@code consent-missing}. */
    public String code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** The FHIR {@code IssueType} code (value set issue-type). */
    public String fhirIssueType() {
        return fhirIssueType;
    }

    /** HL7 table 0357 (message error condition codes) for ERR-3. */
    public String hl7ErrorCode() {
        return hl7ErrorCode;
    }

    public String defaultText() {
        return defaultText;
    }

    public static ErrorCode fromCode(String code) {
        for (ErrorCode c : values()) {
            if (c.code.equals(code)) {
                return c;
            }
        }
        throw new IllegalArgumentException("Unknown error code: " + code);
    }

    @Override
    public String toString() {
        return code.toUpperCase(Locale.ROOT);
    }
}
