package org.carerelay.fhir.validation;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.FhirVersionEnum;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import com.google.gson.JsonParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

/**
 * Validates resources against the base FHIR R4 profiles (structure, cardinality, invariants and
 * the required bindings to FHIR's own value sets, e.g. {@code Communication.status}).
 *
 * <p>CareRelay's API uses its own code systems ({@code https://fhir.carerelay.org/CodeSystem/...}),
 * its own extensions and German identifier systems the validator does not know, and references
 * such as {@code Patient/123} that the validator cannot resolve. None of these is an error here:
 *
 * <ul>
 *   <li>any extension is allowed (an unknown extension is only an information message, which is
 *       not reported);</li>
 *   <li>an unknown profile in {@code meta.profile} is a warning, not an error;</li>
 *   <li>references are not resolved (no resource fetcher is configured), so {@code Patient/123}
 *       yields no message at all;</li>
 *   <li>a coding from a code system the validator does not know (CareRelay's, {@code fhir.de},
 *       LOINC, ICD-10-GM, ...) is a warning ("CodeSystem is unknown and can't be validated") in
 *       example, preferred and extensible bindings. HAPI 8.8.1 raises no error for it, so no
 *       message is downgraded. Terminology checks stay on: a code outside a required binding to
 *       one of FHIR's own value sets ({@code Communication.status}, {@code Consent.status}), an
 *       unknown code in a code system the validator knows, and an invalid UCUM unit are errors.</li>
 * </ul>
 *
 * <p>Expensive to warm up: the fast path's first use loads the core R4 StructureDefinitions
 * (several seconds), and the first full validation converts them to the R5 copies HAPI's validator
 * engine works on and builds its worker context (several seconds more, and about 90 MB of heap
 * that stays). Create one instance per {@link FhirContext} and share it; call
 * {@link #warmUpFastPath()} in the background at startup (what most resources need), or
 * {@link #warmUp()} to load the full validator as well. Thread-safe.
 */
public final class ResourceValidator {

    private final FhirContext ctx;
    private final IValidationSupport definitions;
    private final ValidationSupportChain support;
    private final FastPath fastPath;
    /** HAPI's validator with its worker context, built by the first validation that needs it. */
    private volatile FhirValidator validator;
    private final Object buildLock = new Object();

    public ResourceValidator(FhirContext ctx) {
        this(ctx, new CoreDefinitions(ctx));
    }

    /** With {@code definitions} of the core types in place of HAPI's, stripped ones (for tests). */
    ResourceValidator(FhirContext ctx, IValidationSupport definitions) {
        Objects.requireNonNull(ctx, "ctx");
        if (ctx.getVersion().getVersion() != FhirVersionEnum.R4) {
            throw new IllegalArgumentException("R4 FhirContext required, got " + ctx.getVersion().getVersion());
        }
        this.ctx = ctx;
        // ValidationSupportChain caches lookups itself (Caffeine via hapi-fhir-caching-caffeine);
        // CachingValidationSupport is deprecated for removal since HAPI 8.0.
        this.definitions = definitions;
        support = new ValidationSupportChain(
                ValidationSupportChain.CacheConfiguration.defaultValues(),
                definitions,
                new CommonCodeSystemsTerminologyService(ctx),
                new InMemoryTerminologyServerValidationSupport(ctx),
                new SnapshotGeneratingValidationSupport(ctx));
        fastPath = new FastPath(ctx, support);
    }

    /**
     * HAPI's definitions of the core types, asked only for URLs that can name one. HAPI 8.8 turns a
     * URL without a slash, or with one only, into a core URL ({@code ""} and {@code "StructureDefinition/"}
     * become {@code http://hl7.org/fhir/StructureDefinition/}) and then reads the first character after
     * that prefix without checking that there is one. Its instance validator asks for exactly that URL
     * when a reference has an empty type segment ({@code "http://example.org"}, {@code "a//1"}), and a
     * {@code meta.profile} can name it: the validation then ended in a
     * {@code StringIndexOutOfBoundsException} instead of a message. A URL that is empty or ends with a
     * slash names no StructureDefinition; for it there is none.
     *
     * <p>Every definition it hands out is stripped of its prose first (see {@link DefinitionDocumentation}), and
     * its equal texts share one string (see {@link DefinitionStrings}).
     */
    static final class CoreDefinitions extends DefaultProfileValidationSupport {

        // HAPI keeps what it loaded once per JVM and FHIR version, for all its instances: so does this
        private static final Object LOAD_LOCK = new Object();
        /** Set once everything is loaded and stripped; read without the lock. */
        private static volatile boolean loaded;

        CoreDefinitions(FhirContext ctx) {
            super(ctx);
        }

        @Override
        public IBaseResource fetchStructureDefinition(String url) {
            if (url == null || url.isEmpty() || url.endsWith("/")) {
                return null;
            }
            load();
            return super.fetchStructureDefinition(url);
        }

        @Override
        public <T extends IBaseResource> List<T> fetchAllStructureDefinitions() {
            load();
            return super.fetchAllStructureDefinitions();
        }

        @Override
        public <T extends IBaseResource> List<T> fetchAllNonBaseStructureDefinitions() {
            load();
            return super.fetchAllNonBaseStructureDefinitions();
        }

        @Override
        public List<IBaseResource> fetchAllConformanceResources() {
            load();
            return super.fetchAllConformanceResources();
        }

        @Override
        public IBaseResource fetchValueSet(String url) {
            load();
            return super.fetchValueSet(url);
        }

        @Override
        public IBaseResource fetchCodeSystem(String url) {
            load();
            return super.fetchCodeSystem(url);
        }

        /**
         * Loads HAPI's StructureDefinitions, ValueSets and CodeSystems (HAPI loads each kind as a
         * whole on its first use anyway), strips what validation never reads (see
         * {@link DefinitionDocumentation}) and lets their equal texts share one string (see
         * {@link DefinitionStrings}) before this class hands out any of them: both change them, so
         * none of its callers may be reading them meanwhile. HAPI shares them with
         * every {@link DefaultProfileValidationSupport} of the JVM; one that is not a
         * {@code CoreDefinitions} does not wait for this (CareRelay has none). After HAPI's
         * {@link #flush()} (CareRelay never calls it) HAPI loads them again, and they keep their
         * prose: more memory, the same validation.
         */
        private void load() {
            if (loaded) {
                return;
            }
            synchronized (LOAD_LOCK) {
                if (loaded) {
                    return;
                }
                super.fetchAllStructureDefinitions();
                super.fetchValueSet(ANY_VALUE_SET); // loads the code systems as well
                List<IBaseResource> all = super.fetchAllConformanceResources();
                DefinitionDocumentation.strip(all);
                DefinitionStrings.share(getFhirContext(), all);
                loaded = true;
            }
        }

        /** A value set of HAPI's bundles: asking for one loads them all. */
        private static final String ANY_VALUE_SET = "http://hl7.org/fhir/ValueSet/event-status";
    }

    /**
     * HAPI's validator, built on first use (one thread builds it; the others wait for it). Not
     * built in the constructor: the fast path decides most resources, and the full validator's
     * classes, worker context and R5 copies of the definitions cost start time and memory.
     */
    private FhirValidator fullValidator() {
        FhirValidator built = validator;
        if (built == null) {
            synchronized (buildLock) {
                built = validator;
                if (built == null) {
                    built = buildFullValidator();
                    validator = built;
                }
            }
        }
        return built;
    }

    private FhirValidator buildFullValidator() {
        // HAPI's FhirInstanceValidator builds a new InstanceValidator (and re-reads the OID
        // registry) for every validation; this one reuses them, with the same checks
        ReusingInstanceValidator instanceValidator = new ReusingInstanceValidator(support,
                Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));
        instanceValidator.setAnyExtensionsAllowed(true);
        instanceValidator.setErrorForUnknownProfiles(false);
        instanceValidator.setNoTerminologyChecks(false);
        // create the (lazily initialised, unsynchronised) worker context now, before this instance
        // is shared between threads; the expensive loading still happens on the first validation
        instanceValidator.getWorkerContext();

        FhirValidator built = ctx.newValidator();
        built.setValidateAgainstStandardSchema(false);
        built.setValidateAgainstStandardSchematron(false);
        built.registerValidatorModule(instanceValidator);
        return built;
    }

    /**
     * Validates {@code resource} against the base R4 profile of its type. A resource that a quick
     * walk along the StructureDefinitions proves free of errors (see {@link FastPath}: it only
     * ever says "valid" or "not sure") is not passed to HAPI's validator, so its result carries
     * no warnings; every other resource, and every invalid one, gets the full validation with its
     * messages and locations. {@link #validateFully(IBaseResource)} always runs the full validator.
     */
    public Result validate(IBaseResource resource) {
        Objects.requireNonNull(resource, "resource");
        if (fastPath.provesValid(resource)) {
            return VALID;
        }
        return validateFully(resource);
    }

    /** Validates {@code resource} with HAPI's validator only, warnings included. */
    public Result validateFully(IBaseResource resource) {
        Objects.requireNonNull(resource, "resource");
        return toResult(fullValidator().validateWithResult(resource));
    }

    /** Entries the fast path keeps about values clients sent (for tests). */
    int fastPathCachedInputs() {
        return fastPath.cachedInputs();
    }

    /** Whether the fast path alone proves {@code resource} free of errors (for tests and diagnostics). */
    boolean fastPathProvesValid(IBaseResource resource) {
        return fastPath.provesValid(resource);
    }

    /**
     * Validates a resource given as JSON or XML text. Unlike parsing first, this also reports
     * values the HAPI parser would reject or drop, such as an unknown {@code status} code, with
     * their location. Text that is not a FHIR resource at all (blank, malformed JSON or XML, no
     * {@code resourceType}) gives a result with one fatal issue instead of an exception.
     */
    public Result validate(String resourceText) {
        Objects.requireNonNull(resourceText, "resourceText");
        if (resourceText.isBlank()) {
            return unreadable("The resource is empty");
        }
        try {
            return toResult(fullValidator().validateWithResult(resourceText));
        } catch (JsonParseException | InvalidRequestException | DataFormatException e) {
            // Gson (JSON syntax) and HAPI (neither JSON nor XML) throw instead of reporting
            return unreadable("The resource cannot be read: " + e.getMessage());
        }
    }

    private static final Result VALID = new Result(List.of(), List.of());

    private static Result unreadable(String message) {
        return new Result(List.of(new Issue("fatal", null, message)), List.of());
    }

    private static Result toResult(ValidationResult result) {
        List<Issue> errors = new ArrayList<>();
        List<Issue> warnings = new ArrayList<>();
        for (SingleValidationMessage message : result.getMessages()) {
            ResultSeverityEnum severity = message.getSeverity();
            if (severity == null) {
                continue;
            }
            switch (severity) {
                case FATAL, ERROR -> errors.add(issue(severity, message));
                case WARNING -> warnings.add(issue(severity, message));
                default -> {
                    // information messages are not reported
                }
            }
        }
        return new Result(errors, warnings);
    }

    /**
     * Validates one small Communication (fully, and with the fast path), so that the core StructureDefinitions, value sets and the
     * validator's worker context are loaded before the first real request.
     */
    public void warmUp() {
        Communication communication = warmUpCommunication();
        fastPath.provesValid(communication);
        validateFully(communication);
    }

    /**
     * Checks one small Communication with the fast path only, so that the core R4 StructureDefinitions and value sets it walks
     * are loaded (stripped of their prose, equal texts shared: see {@link CoreDefinitions}) before the first real request. The full validator's R5 copies and worker context are not built: the first validation the
     * fast path cannot decide builds them (several seconds, and the heap they take from then on).
     *
     * @throws IllegalStateException when the fast path does not prove the warm-up resource valid (it would then not be loaded)
     */
    public void warmUpFastPath() {
        if (!fastPath.provesValid(warmUpCommunication())) {
            throw new IllegalStateException("The fast path did not prove the warm-up Communication valid");
        }
    }

    /**
     * Lets equal text values of the core definitions share one string once more; returns how many values were replaced
     * (for tests: loading them did it already, so nothing is left to replace).
     */
    int shareDefinitionStrings() {
        return DefinitionStrings.share(ctx, definitions.fetchAllConformanceResources());
    }

    private static Communication warmUpCommunication() {
        Communication communication = new Communication();
        communication.setStatus(Communication.CommunicationStatus.COMPLETED);
        communication.setSubject(new Reference("Patient/warm-up"));
        communication.addPayload().setContent(new StringType("warm-up"));
        return communication;
    }

    private static Issue issue(ResultSeverityEnum severity, SingleValidationMessage message) {
        return new Issue(severity.getCode().toLowerCase(Locale.ROOT), message.getLocationString(), message.getMessage());
    }

    /** The outcome of one validation: errors (severity error or fatal) and warnings. */
    public record Result(List<Issue> errors, List<Issue> warnings) {

        public Result {
            errors = List.copyOf(errors);
            warnings = List.copyOf(warnings);
        }

        /** Whether there are no errors (warnings do not count). */
        public boolean isValid() {
            return errors.isEmpty();
        }
    }

    /**
     * One validation message.
     *
     * @param severity {@code fatal}, {@code error} or {@code warning}
     * @param location FHIRPath of the offending element, e.g. {@code Communication.status};
     *     {@code null} for the few messages about the resource as a whole that HAPI gives none
     * @param message human-readable text (English, from the HL7 validator)
     */
    public record Issue(String severity, String location, String message) {
    }
}
