package org.carerelay.fhir.validation;

import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import ca.uhn.fhir.context.ConfigurationException;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.util.XmlUtil;
import ca.uhn.fhir.validation.IValidationContext;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.hl7.fhir.exceptions.FHIRException;
import org.hl7.fhir.r5.context.IWorkerContext;
import org.hl7.fhir.r5.elementmodel.Manager;
import org.hl7.fhir.r5.fhirpath.IHostApplicationServices;
import org.hl7.fhir.r5.model.StructureDefinition;
import org.hl7.fhir.r5.utils.validation.ValidatorSession;
import org.hl7.fhir.r5.utils.validation.constants.IdStatus;
import org.hl7.fhir.r5.utils.xver.XVerExtensionManagerOld;
import org.hl7.fhir.utilities.i18n.I18nConstants;
import org.hl7.fhir.utilities.validation.ValidationMessage;
import org.hl7.fhir.validation.ValidatorSettings;
import org.hl7.fhir.validation.instance.InstanceValidator;
import org.w3c.dom.Document;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * HAPI's {@code FhirInstanceValidator} with the same checks, but without building a new
 * {@link InstanceValidator} for every validation.
 *
 * <p>HAPI 8.8.1 ({@code ValidatorWrapper}) constructs an {@code InstanceValidator} per call, and
 * that constructor parses the 1.5 MB OID registry ({@code oidregistry.csv}, 21,000 lines, in
 * {@code OIDUtilities}) every time: about 8 ms of CPU per validation, more than the validation of
 * a small Communication itself. The {@code InstanceValidator} is built to validate one resource
 * after another (its {@code validate} clears the per-resource caches and trackers), just not by
 * two threads at once. So this module keeps a small pool of them: a validation borrows one (it
 * waits briefly when all are in use), configures it exactly as {@code ValidatorWrapper} does,
 * validates and gives it back. Two things a reused validator would otherwise carry over are reset
 * before each use: the "warn once about a definition's status" set and the AI text checks list.
 * A validator is retired after {@link #MAX_USES} validations, which bounds what it keeps between
 * uses (the codings it has seen, narrative lookups) and how long the last resource stays
 * reachable.
 *
 * <p>What happens per validation is otherwise the same as in {@code ValidatorWrapper}: profiles
 * from the options and from {@code meta.profile}, the same message filter, and an unknown
 * profile is an error or a warning as {@link #isErrorForUnknownProfiles()} says. Thread-safe;
 * the settings of the superclass are read at every validation.
 */
public class ReusingInstanceValidator extends FhirInstanceValidator {

    /** Validations per {@link InstanceValidator} before it is dropped and a new one is built. */
    static final int MAX_USES = 500;

    private static final Gson GSON = new GsonBuilder().create();

    private static final System.Logger LOG = System.getLogger(ReusingInstanceValidator.class.getName());

    /** How long a validation waits for a validator in use before it builds one of its own. */
    private static final long WAIT_MILLIS = 1000;

    private final int limit;
    private final BlockingQueue<Reusable> idle;
    /** Validators built and not dropped: in use or idle. */
    private final AtomicInteger live = new AtomicInteger();
    private final LongAdder built = new LongAdder();

    /**
     * @param validators how many validators to build and keep (at least 1); when all are in use, a
     *     validation waits up to a second for one (validation is CPU work: more validations at once
     *     than cores gain nothing) before it builds one that is dropped afterwards. Each holds the
     *     OID registry (about 5.5 MB of heap).
     */
    public ReusingInstanceValidator(IValidationSupport support, int validators) {
        super(support);
        limit = Math.max(1, validators);
        idle = new ArrayBlockingQueue<>(limit);
    }

    /** How many {@link InstanceValidator}s were built so far (for tests and diagnostics). */
    public long validatorsBuilt() {
        return built.sum();
    }

    @Override
    protected List<ValidationMessage> validate(IValidationContext<?> context) {
        IWorkerContext workerContext = provideWorkerContext();
        Reusable validator = borrow(workerContext);
        boolean reusable = false;
        try {
            validator.prepare();
            configure(validator);
            List<ValidationMessage> messages = validate(validator, workerContext, context);
            reusable = !validator.failed;
            return messages;
        } finally {
            giveBack(validator, reusable);
        }
    }

    private Reusable borrow(IWorkerContext workerContext) {
        Reusable validator = current(idle.poll(), workerContext);
        if (validator != null) {
            return validator;
        }
        if (live.incrementAndGet() <= limit) {
            return build(workerContext);
        }
        live.decrementAndGet();
        try {
            validator = current(idle.poll(WAIT_MILLIS, TimeUnit.MILLISECONDS), workerContext);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (validator == null) {
            live.incrementAndGet(); // one more than the limit for now: dropped when it comes back to a full pool
            validator = build(workerContext);
        }
        return validator;
    }

    /** {@code validator} unless it was built for another worker context (before {@code invalidateCaches()}): then dropped. */
    private Reusable current(Reusable validator, IWorkerContext workerContext) {
        while (validator != null && validator.workerContext != workerContext) {
            live.decrementAndGet();
            validator = idle.poll();
        }
        return validator;
    }

    private void giveBack(Reusable validator, boolean reusable) {
        validator.release();
        if (!(reusable && validator.uses < MAX_USES && idle.offer(validator))) {
            live.decrementAndGet(); // dropped: failed, worn out or more than the pool holds
        }
    }

    private Reusable build(IWorkerContext workerContext) {
        IHostApplicationServices host = Objects.requireNonNullElseGet(getHostApplicationServices(), NullEvaluationContext::new);
        try {
            Reusable validator = new Reusable(workerContext, host, new XVerExtensionManagerOld(workerContext));
            built.increment();
            return validator;
        } catch (Exception | Error e) {
            live.decrementAndGet();
            if (e instanceof Error error) {
                throw error;
            }
            throw new ConfigurationException("Cannot build the FHIR instance validator: " + e.getMessage(), e);
        }
    }

    /** The settings {@code ValidatorWrapper} applies to every new validator, from this module's current settings. */
    private void configure(InstanceValidator v) {
        v.setAssumeValidRestReferences(isAssumeValidRestReferences());
        v.setBestPracticeWarningLevel(getBestPracticeWarningLevel());
        v.setAnyExtensionsAllowed(isAnyExtensionsAllowed());
        v.setResourceIdRule(IdStatus.OPTIONAL);
        v.setNoTerminologyChecks(isNoTerminologyChecks());
        v.setErrorForUnknownProfiles(isErrorForUnknownProfiles());
        v.setUnknownCodeSystemsCauseErrors(true); // fixed in ValidatorWrapper as well
        v.getExtensionDomains().clear();
        v.getExtensionDomains().addAll(getExtensionDomains());
        v.setFetcher(getValidatorResourceFetcher());
        v.setPolicyAdvisor(getValidatorPolicyAdvisor());
        v.setNoExtensibleWarnings(isNoExtensibleWarnings());
        v.setNoBindingMsgSuppressed(isNoBindingMsgSuppressed());
        v.setAllowExamples(isAllowExamples());
        v.setAllowXsiLocation(true);
    }

    private List<ValidationMessage> validate(Reusable v, IWorkerContext workerContext, IValidationContext<?> context) {
        List<ValidationMessage> messages = new ArrayList<>();
        List<StructureDefinition> profiles = new ArrayList<>();
        List<ValidationMessage> invalidProfiles = new ArrayList<>();
        for (String url : context.getOptions().getProfiles()) {
            fetchAndAddProfile(workerContext, profiles, url, invalidProfiles);
        }
        String input = context.getResourceAsString();
        EncodingEnum encoding = context.getResourceAsStringEncoding();
        InputStream in = new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8));
        if (encoding == EncodingEnum.XML) {
            Document document;
            try {
                document = XmlUtil.parseDocument(input);
            } catch (Exception e) {
                ValidationMessage m = new ValidationMessage();
                m.setLevel(ValidationMessage.IssueSeverity.FATAL);
                m.setMessage("Failed to parse input, it does not appear to be valid XML:" + e.getMessage());
                messages.add(m);
                return messages;
            }
            for (String url : xmlProfiles(document)) {
                fetchAndAddProfile(workerContext, profiles, url, invalidProfiles);
            }
            if (!guarded(v, () -> v.validate(null, messages, in, Manager.FhirFormat.XML, profiles), messages)) {
                return messages;
            }
        } else if (encoding == EncodingEnum.JSON) {
            JsonObject json = GSON.fromJson(input, JsonObject.class);
            JsonObject meta = json.getAsJsonObject("meta");
            if (meta != null) {
                JsonElement profile = meta.get("profile");
                if (profile != null && profile.isJsonArray()) {
                    JsonArray urls = profile.getAsJsonArray();
                    for (JsonElement url : urls) {
                        fetchAndAddProfile(workerContext, profiles, url.getAsString(), invalidProfiles);
                    }
                }
            }
            if (!guarded(v, () -> v.validate(context.getOptions().getAppContext(), messages, in, Manager.FhirFormat.JSON,
                    profiles), messages)) {
                return messages;
            }
        } else {
            throw new IllegalArgumentException("Unknown encoding: " + encoding);
        }
        if (profiles.isEmpty() && !invalidProfiles.isEmpty()) {
            messages.addAll(invalidProfiles);
        }
        List<ValidationMessage> kept = new ArrayList<>(messages.stream().filter(ReusingInstanceValidator::kept).toList());
        ValidationMessage.IssueSeverity unknownProfile =
                isErrorForUnknownProfiles() ? ValidationMessage.IssueSeverity.ERROR : ValidationMessage.IssueSeverity.WARNING;
        kept.stream()
                .filter(m -> I18nConstants.VALIDATION_VAL_PROFILE_UNKNOWN.equals(m.getMessageId())
                        || I18nConstants.VALIDATION_VAL_PROFILE_UNKNOWN_NOT_POLICY.equals(m.getMessageId()))
                .forEach(m -> m.setLevel(unknownProfile));
        return kept;
    }

    /** One call into the {@link InstanceValidator}. */
    @FunctionalInterface
    private interface Validation {
        void run();
    }

    /**
     * Runs {@code validation}. When the instance validator fails on the input with an index error (HAPI
     * 8.8 indexes past the end of a reference made of slashes only, {@code "/"}), the resource is not
     * accepted: one fatal message is added to what the validator had reported so far, {@code v} is
     * marked failed so that it is not reused, and false is returned. The log names the first frame
     * outside the JDK, not the exception's text, which may quote the input; the client is told neither.
     * Any other exception is the validator's own or the gateway's fault, not the input's: it goes on
     * (a server error, which the sender may retry), and {@link #validate(IValidationContext)} drops
     * {@code v} as it drops a validator after any exception.
     */
    private static boolean guarded(Reusable v, Validation validation, List<ValidationMessage> messages) {
        try {
            validation.run();
            return true;
        } catch (IndexOutOfBoundsException e) {
            v.failed = true;
            LOG.log(System.Logger.Level.WARNING, "The FHIR validator failed on a resource ({0}{1}); it was not accepted",
                    e.getClass().getName(), firstOwnFrame(e));
            ValidationMessage m = new ValidationMessage();
            m.setLevel(ValidationMessage.IssueSeverity.FATAL);
            m.setMessage("The resource cannot be checked: the FHIR validator failed on it, so it is not accepted");
            messages.add(m);
            return false;
        }
    }

    /** " at" the first stack frame outside {@code java.*}, or nothing when the JVM left out the stack. */
    private static String firstOwnFrame(Throwable e) {
        for (StackTraceElement frame : e.getStackTrace()) {
            if (!frame.getClassName().startsWith("java.")) {
                return " at " + frame;
            }
        }
        return "";
    }

    /** The messages {@code ValidatorWrapper} drops: bindings without a source, the unknown mimetypes value set. */
    private static boolean kept(ValidationMessage m) {
        String id = m.getMessageId();
        return id == null || !(id.equals(I18nConstants.TERMINOLOGY_TX_BINDING_NOSOURCE)
                || (id.equals(I18nConstants.TERMINOLOGY_TX_VALUESET_NOTFOUND)
                        && m.getMessage().contains("http://hl7.org/fhir/ValueSet/mimetypes")));
    }

    private static void fetchAndAddProfile(IWorkerContext workerContext, List<StructureDefinition> profiles, String url,
            List<ValidationMessage> invalid) {
        try {
            StructureDefinition definition = workerContext.fetchResource(StructureDefinition.class, url);
            if (definition != null) {
                profiles.add(definition);
            } else {
                ValidationMessage m = new ValidationMessage();
                m.setMessageId(I18nConstants.VALIDATION_VAL_PROFILE_UNKNOWN);
                m.setLevel(ValidationMessage.IssueSeverity.ERROR);
                m.setMessage("Invalid profile. Failed to retrieve profile with url=" + url);
                invalid.add(m);
            }
        } catch (FHIRException e) {
            // as in ValidatorWrapper: a profile that cannot be loaded is skipped
        }
    }

    private static List<String> xmlProfiles(Document document) {
        List<String> urls = new ArrayList<>();
        NodeList children = document.getChildNodes().item(0).getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i).getNodeName().compareToIgnoreCase("meta") == 0) {
                NodeList meta = children.item(i).getChildNodes();
                for (int j = 0; j < meta.getLength(); j++) {
                    Node node = meta.item(j);
                    if (node.getNodeName().compareToIgnoreCase("profile") == 0) {
                        urls.add(node.getAttributes().item(0).getNodeValue());
                    }
                }
                break;
            }
        }
        return urls;
    }

    /** An {@link InstanceValidator} that can be reset between two validations. */
    private static final class Reusable extends InstanceValidator {
        final IWorkerContext workerContext;
        int uses;
        /** Whether the validation in progress ended in an exception of the validator's own. */
        boolean failed;

        Reusable(IWorkerContext workerContext, IHostApplicationServices host, XVerExtensionManagerOld xver) throws Exception {
            super(workerContext, host, xver, new ValidatorSession(), new ValidatorSettings());
            this.workerContext = workerContext;
        }

        /** What {@code validate} itself does not reset: warn-once definition statuses, texts for the AI check. */
        void prepare() {
            uses++;
            failed = false;
            statusWarnings.clear();
            getTextsToCheck().clear();
        }

        /** Not keeping the last resource's parsed content reachable from the pool. */
        void release() {
            validatedContent = null;
            trackedMessages.clear();
            messagesToRemove.clear();
        }
    }
}
