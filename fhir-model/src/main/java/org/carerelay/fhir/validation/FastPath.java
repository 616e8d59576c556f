package org.carerelay.fhir.validation;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.ConceptValidationOptions;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import ca.uhn.fhir.context.support.ValueSetExpansionOptions;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Element;
import org.hl7.fhir.r4.model.ElementDefinition;
import org.hl7.fhir.r4.model.ElementDefinition.ConstraintSeverity;
import org.hl7.fhir.r4.model.ElementDefinition.ElementDefinitionConstraintComponent;
import org.hl7.fhir.r4.model.ElementDefinition.TypeRefComponent;
import org.hl7.fhir.r4.model.Enumerations.BindingStrength;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Meta;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.UriType;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.utilities.Utilities;
import org.hl7.fhir.utilities.Utilities.DecimalStatus;

/**
 * A fast check in front of HAPI's instance validator that can only ever say "valid" or "not
 * sure", never "invalid".
 *
 * <p>It walks the resource together with the snapshot {@link ElementDefinition}s of the base R4
 * StructureDefinitions that the validation support holds (the resource's, and the datatypes' for
 * complex values) and checks, for every element present: cardinality (also of the required
 * children of a backbone element or datatype that is present), that it is not empty (ele-1), the
 * datatype of choice elements, primitive values (the type's regex from its StructureDefinition
 * plus what HAPI's validator checks beyond it for dates, instants, numbers, codes, ids, strings,
 * URIs and base64), reference target types from {@code targetProfile}, required bindings on
 * {@code code} elements (value in the expanded value set), and the error-level invariants it
 * implements (ele-1, ext-1, ref-1, att-1, per-1, cpt-2 and, without {@code contained}, dom-2 to
 * dom-5).
 *
 * <p>Anything else makes it answer "not sure", so that the full validator decides: an element
 * with an error-level invariant it does not implement, a coding in a code system the validation
 * support knows (or in a well-known terminology namespace) unless the support confirms it under
 * the element's example, preferred or extensible binding (under an extensible binding the code
 * need not be in the value set when the support finds nothing but that, which the validator only
 * warns about; see {@link #knownCoding}), a required or maximum binding on a
 * coded datatype, anything in {@code meta} but the {@code versionId} and {@code lastUpdated} of a
 * stored resource (whose id may then carry that version), {@code contained}, narrative {@code text},
 * {@code implicitRules}, modifier extensions, extensions whose URL is a known
 * StructureDefinition (except simple ones on a primitive element their context names), primitive types it does not check ({@code time}, {@code canonical},
 * {@code oid}, {@code uuid}, {@code xhtml}), element ids, {@code urn:} URIs, {@code Quantity}
 * and resources in resources. Its "valid" means: the full validator would report no error-level
 * issue (the differential test in this module holds it to that over a corpus of variants).
 * Thread-safe; the definitions, regexes and value set expansions it needs are cached.
 */
final class FastPath {

    private static final String CORE = "http://hl7.org/fhir/StructureDefinition/";
    private static final String REGEX_EXTENSION = "http://hl7.org/fhir/StructureDefinition/regex";
    private static final String FHIR_TYPE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";
    private static final String MAX_VALUE_SET_EXTENSION = "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet";
    private static final String MIN_LENGTH_EXTENSION = "http://hl7.org/fhir/StructureDefinition/minLength";
    private static final String MIMETYPES = "http://hl7.org/fhir/ValueSet/mimetypes";
    /** The code system of the validator's terminology issue types ({@code not-in-vs}, {@code invalid-code}, ...). */
    private static final String TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type";

    /** The error-level invariants implemented here (the dom-* ones hold trivially: contained resources are refused). */
    private static final Set<String> INVARIANTS = Set.of("ele-1", "ext-1", "ref-1", "att-1", "per-1", "cpt-2",
            "dom-2", "dom-3", "dom-4", "dom-5");

    /** Primitive types whose values are checked here; any other primitive type is "not sure". */
    private static final Set<String> PRIMITIVES = Set.of("boolean", "integer", "unsignedInt", "positiveInt", "decimal",
            "string", "markdown", "code", "id", "uri", "url", "date", "dateTime", "instant", "base64Binary");

    /** Complex datatypes with checks of their own in the validator that are not done here. */
    private static final Set<String> UNSURE_TYPES = Set.of("Quantity", "Age", "Count", "Distance", "Duration",
            "SimpleQuantity", "MoneyQuantity", "Narrative", "Resource", "Meta", "xhtml");

    /** Terminology namespaces the validator may know things about even when the validation support does not. */
    private static final List<String> TERMINOLOGY_HOSTS = List.of("hl7.org", "hl7.de", "snomed.info", "loinc.org",
            "unitsofmeasure.org", "nlm.nih.gov", "who.int", "whocc.no", "dicom.nema.org", "ietf.org", "iso.org",
            "ihe.net", "cdc.gov", "ama-assn.org", "fhir.org", "bfarm.de", "dimdi.de", "gematik.de", "ihtsdo.org");

    // the validator's own expressions (InstanceValidator.checkPrimitive)
    private static final Pattern DATE_TIME = Pattern.compile("([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?)?)?)?");
    private static final Pattern DATE = Pattern.compile("([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?");
    private static final Pattern INSTANT = Pattern.compile("-?[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
    private static final Pattern RELATIVE_REFERENCE = Pattern.compile("([A-Z][A-Za-z]+)/[A-Za-z0-9\\-.]{1,64}(/_history/[A-Za-z0-9\\-.]{1,64})?");
    private static final Pattern MIME_TYPE = Pattern.compile("[a-z]+/[a-z0-9][a-z0-9.+-]*");
    private static final Pattern HTTP_URL = Pattern.compile("https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?");
    /** Longer values of types other than string are left to the full validator (its regexes recurse per character). */
    private static final int MAX_OTHER_LENGTH = 4096;

    private final IValidationSupport support;
    private final ValidationSupportContext supportContext;
    private final Set<String> resourceTypes;
    private final ConcurrentMap<String, Optional<Definition>> definitions = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Optional<Pattern>> regexes = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Optional<Set<String>>> valueSets = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Boolean> unknownSystems = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Boolean> unknownExtensions = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Boolean> mimeTypes = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Boolean> knownCodings = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Optional<SimpleExtension>> simpleExtensions = new ConcurrentHashMap<>();

    /**
     * Entries at most in each cache keyed by what a client sends (extension URLs, code systems,
     * codings, MIME types), so that a stream of made-up values cannot fill the heap; past it,
     * answers are computed and not kept.
     */
    static final int MAX_CACHED_INPUTS = 10_000;
    /** Longer keys (a URL, a system, a coding with its display) are answered each time and never kept. */
    static final int MAX_CACHED_KEY_LENGTH = 1024;

    private static <V> V cached(ConcurrentMap<String, V> cache, String key, Function<String, V> compute) {
        V known = cache.get(key);
        if (known != null) {
            return known;
        }
        return key.length() > MAX_CACHED_KEY_LENGTH || cache.size() >= MAX_CACHED_INPUTS
                ? compute.apply(key) : cache.computeIfAbsent(key, compute);
    }

    FastPath(FhirContext ctx, IValidationSupport support) {
        Objects.requireNonNull(ctx, "ctx");
        this.support = Objects.requireNonNull(support, "support");
        this.supportContext = new ValidationSupportContext(support);
        this.resourceTypes = Set.copyOf(ctx.getResourceTypes());
    }

    /** Entries in the caches keyed by client input (for tests). */
    int cachedInputs() {
        return simpleExtensions.size() + unknownExtensions.size() + unknownSystems.size() + knownCodings.size() + mimeTypes.size();
    }

    /** A StructureDefinition's snapshot, indexed by the path of each element's parent. */
    private record Definition(ElementDefinition root, Map<String, ElementDefinition> byPath,
            Map<String, List<Child>> children) {
    }

    /**
     * An element as a child of its parent: its name (the last part of its path, choices with their
     * {@code [x]}), and its cardinality as numbers ({@code max} {@link Integer#MAX_VALUE} for
     * {@code *}, -1 for a value that is not a count: not sure). Worked out once per definition
     * instead of for every value validated (cutting the name out of the path and hashing it took a
     * fifth of the fast path's time).
     */
    private record Child(String name, ElementDefinition ed, int min, int max) {

        static Child of(String name, ElementDefinition ed) {
            int max;
            if ("*".equals(ed.getMax())) {
                max = Integer.MAX_VALUE;
            } else {
                try {
                    max = Math.max(-1, Integer.parseInt(ed.getMax()));
                } catch (NumberFormatException e) {
                    max = -1;
                }
            }
            return new Child(name, ed, ed.getMin(), max);
        }

        boolean allows(int count) {
            return max >= 0 && count >= min && count <= max;
        }
    }

    /** {@code true} only if the full validator would report no error-level issue for {@code resource}. */
    boolean provesValid(IBaseResource resource) {
        if (!(resource instanceof DomainResource r)) {
            return false;
        }
        try {
            return resource(r);
        } catch (RuntimeException | StackOverflowError e) {
            return false; // anything unexpected: let the full validator decide
        }
    }

    private boolean resource(DomainResource r) {
        Definition d = definition(r.fhirType());
        if (d == null || r.hasContained() || r.hasText() || r.hasModifierExtension() || r.hasImplicitRules()
                || r.hasLanguage() || (r.hasMeta() && !storedMeta(r.getMeta()))) {
            return false;
        }
        if (!r.getIdElement().isEmpty()) {
            String id = r.getIdElement().getIdPart();
            if (id == null || !ID.matcher(id).matches() || r.getIdElement().hasBaseUrl()) {
                return false;
            }
            // a stored resource's id carries its version, which is its meta.versionId (checked there)
            if (r.getIdElement().hasVersionIdPart()
                    && !r.getIdElement().getVersionIdPart().equals(r.hasMeta() ? r.getMeta().getVersionId() : null)) {
                return false;
            }
        }
        return invariants(d.root(), r) && children(r, d, d.root().getPath(), Set.of("id", "meta", "implicitRules",
                "language", "text", "contained", "modifierExtension"));
    }

    /**
     * The meta a stored resource carries: its {@code versionId} and {@code lastUpdated}, nothing else,
     * checked as the {@code id} and {@code instant} they are against Meta's definition. Profiles,
     * security labels, tags, {@code source}, extensions and element ids are for the full validator.
     */
    private boolean storedMeta(Meta meta) {
        return !meta.hasId() && !meta.hasExtension() && !meta.hasSource() && !meta.hasProfile() && !meta.hasSecurity()
                && !meta.hasTag() && datatype(meta, "Meta");
    }

    /** The children of {@code value} (defined at {@code path} in {@code d}); {@code handled} names are checked by the caller. */
    private boolean children(Base value, Definition d, String path, Set<String> handled) {
        List<Child> defs = d.children().get(path);
        if (defs == null) {
            return false;
        }
        Map<String, List<Base>> present = new HashMap<>();
        for (Property p : value.children()) {
            List<Base> values = p.getValues();
            if (values.isEmpty() || handled.contains(p.getName())) {
                continue;
            }
            present.put(p.getName(), values);
        }
        for (Child child : defs) {
            String name = child.name();
            ElementDefinition ed = child.ed();
            List<Base> values = present.isEmpty() ? null : present.remove(name);
            int count = values == null ? 0 : values.size();
            if (handled.contains(name)) {
                continue;
            }
            if (!child.allows(count)) {
                return false;
            }
            if (values != null) {
                if (name.equals("id") || name.equals("modifierExtension")) {
                    return false; // element ids and modifier extensions: the full validator decides
                }
                for (Base v : values) {
                    if (!element(v, ed, d)) {
                        return false;
                    }
                }
            }
        }
        return present.isEmpty(); // a property without definition: not sure
    }

    /** One value of an element defined by {@code ed} in {@code d}. */
    private boolean element(Base v, ElementDefinition ed, Definition d) {
        if (v == null || v.isEmpty() || ed.hasFixed() || ed.hasPattern() || ed.hasMaxLength() || ed.hasMinValue()
                || ed.hasMaxValue() || ed.hasExtension(REGEX_EXTENSION) || ed.hasExtension(MIN_LENGTH_EXTENSION)) {
            return false;
        }
        if (ed.hasContentReference()) {
            String ref = ed.getContentReference();
            ElementDefinition target = d.byPath().get(ref.substring(ref.indexOf('#') + 1));
            return target != null && backbone(v, target, d);
        }
        String type = v.fhirType();
        TypeRefComponent tr = null;
        for (TypeRefComponent t : ed.getType()) {
            if (t.getCode().equals(type)) {
                tr = t;
            }
        }
        if (ed.getType().size() == 1 && Set.of("BackboneElement", "Element").contains(ed.getType().get(0).getCode())
                && !ed.getPath().equals(d.root().getPath())) {
            return backbone(v, ed, d);
        }
        if (tr == null || !invariants(ed, v)) {
            return false; // a datatype the element does not allow, or one we cannot tell (System.String ...)
        }
        if (PRIMITIVES.contains(type)) {
            return primitive(v, type, ed);
        }
        if (Character.isLowerCase(type.charAt(0)) || UNSURE_TYPES.contains(type) || resourceTypes.contains(type)) {
            return false;
        }
        if (ed.hasBinding() && !Set.of("CodeableConcept", "Coding").contains(type)) {
            return false;
        }
        if (ed.hasBinding() && !codedBinding(ed)) {
            return false;
        }
        return switch (type) {
            case "Extension" -> extension((Extension) v);
            case "Reference" -> reference((Reference) v, tr) && datatype(v, type);
            case "CodeableConcept" -> datatype(v, type, ed);
            // the codings of a CodeableConcept were checked against its binding before its children
            case "Coding" -> (ed.getPath().equals("CodeableConcept.coding") || coding((Coding) v, ed)) && datatype(v, type);
            case "Identifier" -> identifier((Identifier) v) && datatype(v, type);
            case "Attachment" -> attachment((Attachment) v) && datatype(v, type);
            default -> datatype(v, type);
        };
    }

    private boolean backbone(Base v, ElementDefinition ed, Definition d) {
        return invariants(ed, v) && children(v, d, ed.getPath(), Set.of());
    }

    /** A value of a complex datatype, against the datatype's own StructureDefinition. */
    private boolean datatype(Base v, String type) {
        return datatype(v, type, null);
    }

    /** As {@link #datatype(Base, String)}, the codings of a CodeableConcept against the binding of {@code ed}. */
    private boolean datatype(Base v, String type, ElementDefinition ed) {
        Definition td = definition(type);
        if (td == null || !invariants(td.root(), v)) {
            return false;
        }
        if (v instanceof CodeableConcept cc) {
            for (Coding coding : cc.getCoding()) {
                if (!coding(coding, ed)) {
                    return false;
                }
            }
        }
        return children(v, td, td.root().getPath(), Set.of());
    }

    /** The error-level invariants of {@code ed} on {@code v}: implemented ones must hold, any other one makes it "not sure". */
    private boolean invariants(ElementDefinition ed, Base v) {
        for (ElementDefinitionConstraintComponent c : ed.getConstraint()) {
            if (c.getSeverity() != ConstraintSeverity.ERROR) {
                continue;
            }
            String key = c.getKey();
            if (!INVARIANTS.contains(key)) {
                return false;
            }
            boolean holds = switch (key) {
                case "ele-1" -> !v.isEmpty();
                case "ext-1" -> v instanceof Extension ext && ext.hasExtension() != ext.hasValue();
                case "ref-1" -> v instanceof Reference ref && !(ref.hasReference() && ref.getReference().startsWith("#"));
                case "att-1" -> v instanceof Attachment att && (!att.hasData() || att.hasContentType());
                case "per-1" -> v instanceof Period period && periodInOrder(period);
                case "cpt-2" -> v instanceof ContactPoint cp && (!cp.hasValue() || cp.hasSystem());
                default -> v instanceof DomainResource r && !r.hasContained(); // dom-2 .. dom-5
            };
            if (!holds) {
                return false;
            }
        }
        return true;
    }

    /** Both ends to the second with a time zone and start not after end; anything else (comparisons of partial dates): not sure. */
    private static boolean periodInOrder(Period period) {
        if (!period.hasStart() || !period.hasEnd()) {
            return true;
        }
        DateTimeType start = period.getStartElement();
        DateTimeType end = period.getEndElement();
        return fullTime(start) && fullTime(end) && !start.getValue().after(end.getValue());
    }

    private static boolean fullTime(BaseDateTimeType t) {
        return t.getPrecision().ordinal() >= TemporalPrecisionEnum.SECOND.ordinal()
                && t.getTimeZone() != null && t.getValue() != null;
    }

    private boolean primitive(Base v, String type, ElementDefinition ed) {
        if (!(v instanceof PrimitiveType<?> p) || !p.hasValue() || p.getValueAsString() == null) {
            return false; // a value that did not parse, or only extensions: not sure
        }
        if (p.hasId() || !extensions(p.getExtension(), ed.getPath())) {
            return false;
        }
        String s = p.getValueAsString();
        if (s.isEmpty() || (!type.equals("string") && s.length() > MAX_OTHER_LENGTH) || s.length() > 1_048_576) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if ((ch < 32 && ch != '\r' && ch != '\n' && ch != '\t') || isBiDi(ch)) {
                return false;
            }
        }
        boolean ok = switch (type) {
            case "boolean" -> s.equals("true") || s.equals("false");
            case "integer", "unsignedInt", "positiveInt" -> integer(s, type);
            case "decimal" -> Utilities.checkDecimal(s, true, false) == DecimalStatus.OK;
            case "string", "markdown" -> !Utilities.isAllWhitespace(s);
            case "code" -> code(s);
            case "id" -> ID.matcher(s).matches();
            case "uri", "url" -> uri(s);
            case "date" -> DATE.matcher(s).matches() && parses(() -> new DateType(s));
            case "dateTime" -> DATE_TIME.matcher(s).matches() && (!s.contains("T") || hasTimeZone(s))
                    && parses(() -> new DateTimeType(s));
            case "instant" -> INSTANT.matcher(s).matches() && parses(() -> new InstantType(s));
            case "base64Binary" -> parses(() -> Base64.getDecoder().decode(s)) && !s.contains(" ");
            default -> false;
        };
        if (!ok) {
            return false;
        }
        if (!type.equals("base64Binary") && !type.equals("markdown")) {
            Pattern regex = regex(type);
            if (regex == null || !regex.matcher(s).matches()) {
                return false;
            }
        }
        if (ed.hasBinding()) {
            return type.equals("code") && ed.getBinding().getStrength() == BindingStrength.REQUIRED
                    && !ed.getBinding().hasExtension(MAX_VALUE_SET_EXTENSION) && inValueSet(s, ed.getBinding().getValueSet());
        }
        return true;
    }

    private static boolean isBiDi(char ch) {
        return (ch >= '\u202A' && ch <= '\u202E') || (ch >= '\u2066' && ch <= '\u2069') || ch == '\u200E' || ch == '\u200F'
                || ch == '\u061C';
    }

    private static boolean integer(String s, String type) {
        try {
            int i = Integer.parseInt(s);
            return !s.startsWith("+") && (type.equals("integer") || (type.equals("unsignedInt") ? i >= 0 : i > 0));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** No leading or trailing whitespace and no whitespace but single spaces (the validator's rule for codes). */
    private static boolean code(String s) {
        return s.equals(s.strip()) && !s.contains("  ") && s.chars().noneMatch(c -> c != ' ' && Character.isWhitespace(c));
    }

    /** Absolute http(s) URLs and simple relative paths; {@code urn:}, {@code oid:}, fragments and anything odd: not sure. */
    private static boolean uri(String s) {
        if (s.startsWith("http://") || s.startsWith("https://")) {
            return HTTP_URL.matcher(s).matches();
        }
        return RELATIVE_REFERENCE.matcher(s).matches();
    }

    private static boolean hasTimeZone(String s) {
        String time = s.substring(s.indexOf('T'));
        return time.endsWith("Z") || time.contains("+") || time.contains("-");
    }

    private static boolean parses(Runnable parse) {
        try {
            parse.run();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Extensions on a primitive value of the element at {@code path} (in its StructureDefinition). */
    private boolean extensions(List<Extension> extensions, String path) {
        for (Extension extension : extensions) {
            Definition d = definition("Extension");
            if (d == null || !invariants(d.root(), extension)
                    || !(extension(extension) || knownExtension(extension, path))) {
                return false;
            }
        }
        return true;
    }

    /** An extension whose URL the validation support does not know (known ones: the full validator checks them against their definition). */
    private boolean extension(Extension ext) {
        String url = ext.getUrl();
        if (url == null || !HTTP_URL.matcher(url).matches() || terminologyHost(url) || !unknownExtension(url)
                || ext.hasExtension() == ext.hasValue()) {
            return false;
        }
        Definition d = definition("Extension");
        return d != null && children(ext, d, "Extension", Set.of("url"));
    }

    /**
     * A simple extension (one value, no nested extensions) whose StructureDefinition the validation
     * support knows, on a primitive element whose path one of its contexts names exactly; the value
     * is checked against the definition's {@code Extension.value[x]} like any element. Anything the
     * definition adds beyond that (slices, context invariants, other kinds of context, modifier
     * extensions): not sure.
     */
    private boolean knownExtension(Extension ext, String path) {
        String url = ext.getUrl();
        if (url == null || !ext.hasValue() || ext.hasExtension() || ext.hasId() || !HTTP_URL.matcher(url).matches()) {
            return false;
        }
        SimpleExtension se = cached(simpleExtensions, url, this::simpleExtension).orElse(null);
        if (se == null || !se.contexts().contains(path)) {
            return false;
        }
        Definition d = se.definition();
        ElementDefinition value = d.byPath().get("Extension.value[x]");
        return invariants(d.root(), ext) && element(ext.getValue(), value, d);
    }

    private Optional<SimpleExtension> simpleExtension(String url) {
        IBaseResource fetched = support.fetchStructureDefinition(url);
        if (!(fetched instanceof StructureDefinition sd) || !sd.hasSnapshot() || !"Extension".equals(sd.getType())
                || sd.getDerivation() != StructureDefinition.TypeDerivationRule.CONSTRAINT
                || !(CORE + "Extension").equals(sd.getBaseDefinition()) || sd.hasContextInvariant() || !sd.hasContext()
                || !sd.getFhirVersion().toCode().startsWith("4.0")) {
            return Optional.empty();
        }
        Set<String> contexts = new HashSet<>();
        for (StructureDefinition.StructureDefinitionContextComponent c : sd.getContext()) {
            if (c.getType() != StructureDefinition.ExtensionContextType.ELEMENT || !c.hasExpression()
                    || !c.getExpression().matches("[A-Z][A-Za-z]*(\\.[a-z][A-Za-z]*)+")) {
                return Optional.empty(); // contexts other than a plain element path: not sure
            }
            contexts.add(c.getExpression());
        }
        Definition d = definition(sd).orElse(null);
        if (d == null) {
            return Optional.empty();
        }
        for (ElementDefinition shared : sd.getSnapshot().getElement()) {
            if (shared.hasSliceName() || shared.hasSlicing() && !shared.getPath().equals("Extension.extension")) {
                return Optional.empty();
            }
        }
        ElementDefinition root = d.root();
        ElementDefinition nested = d.byPath().get("Extension.extension");
        ElementDefinition urlEd = d.byPath().get("Extension.url");
        ElementDefinition value = d.byPath().get("Extension.value[x]");
        if (!root.getPath().equals("Extension") || root.getIsModifier() || nested == null || !"0".equals(nested.getMax())
                || urlEd == null || !(urlEd.getFixed() instanceof UriType fixed)
                || !url.equals(fixed.getValue()) || value == null || value.getMin() != 1 || !"1".equals(value.getMax())
                || value.hasSlicing()) {
            return Optional.empty();
        }
        return Optional.of(new SimpleExtension(Set.copyOf(contexts), d));
    }

    /** A known extension definition this fast path can check: its element contexts and its snapshot. */
    private record SimpleExtension(Set<String> contexts, Definition definition) {
    }

    private boolean unknownExtension(String url) {
        return cached(unknownExtensions, url, u -> support.fetchStructureDefinition(u) == null);
    }

    /** A relative {@code Type/id} reference to a type the element allows; absolute, contained, conditional and typed references: not sure. */
    private boolean reference(Reference ref, TypeRefComponent tr) {
        if (ref.hasType() || ref.hasExtension() || ref.hasId()) {
            return false;
        }
        if (!ref.hasReference()) {
            return true; // identifier or display only: checked as the datatype
        }
        var m = RELATIVE_REFERENCE.matcher(ref.getReference());
        if (!m.matches() || !resourceTypes.contains(m.group(1))) {
            return false;
        }
        if (!tr.hasTargetProfile()) {
            return false;
        }
        for (var target : tr.getTargetProfile()) {
            String t = target.getValue();
            if (t.equals(CORE + "Resource") || t.equals(CORE + m.group(1))) {
                return true;
            }
        }
        return false;
    }

    /** A coded element whose binding is neither required nor limited by a maximum value set. */
    private static boolean codedBinding(ElementDefinition ed) {
        return !ed.hasBinding() || (ed.getBinding().getStrength() != BindingStrength.REQUIRED
                && !ed.getBinding().hasExtension(MAX_VALUE_SET_EXTENSION));
    }

    /**
     * A coding in a code system the validator cannot check (only a warning in the bindings allowed
     * here), or one in a code system the validation support knows that it confirms under the
     * binding of {@code ed} (see {@link #knownCoding}).
     */
    private boolean coding(Coding coding, ElementDefinition ed) {
        if (!coding.hasSystem() || !coding.hasCode() || coding.hasVersion() || coding.hasExtension() || coding.hasId()
                || coding.hasUserSelected()) {
            return false;
        }
        String system = coding.getSystem();
        if (!HTTP_URL.matcher(system).matches()) {
            return false;
        }
        if (!terminologyHost(system) && cached(unknownSystems, system, this::unknownSystem)) {
            return true;
        }
        return knownCoding(coding, ed);
    }

    /**
     * A coding in a code system the support holds, on an element with an example, preferred or
     * extensible binding to a value set: the support must confirm the code (and the display, if
     * any, exactly) in the code system without any issue. For an extensible binding the bound
     * value set must be one the support holds, and the support's check of the code against it
     * (the call the validator makes) must either confirm it or find only that the code is not in
     * the value set (see {@link #onlyNotInValueSet}). Anything else (required bindings, no
     * binding, errors, warnings, unknown value sets, value sets the support cannot check): not sure.
     */
    private boolean knownCoding(Coding coding, ElementDefinition ed) {
        if (ed == null || !ed.hasBinding() || !ed.getBinding().hasValueSet() || !codedBinding(ed)) {
            return false;
        }
        BindingStrength strength = ed.getBinding().getStrength();
        if (strength != BindingStrength.EXAMPLE && strength != BindingStrength.PREFERRED
                && strength != BindingStrength.EXTENSIBLE) {
            return false;
        }
        String vs = ed.getBinding().getValueSet();
        String valueSet = vs.contains("|") ? vs.substring(0, vs.indexOf('|')) : vs;
        String key = strength + "\u0000" + valueSet + "\u0000" + coding.getSystem() + "\u0000" + coding.getCode()
                + "\u0000" + (coding.hasDisplay() ? coding.getDisplay() : "");
        return cached(knownCodings, key, k -> confirmedCoding(coding.getSystem(), coding.getCode(),
                coding.hasDisplay() ? coding.getDisplay() : null, strength == BindingStrength.EXTENSIBLE ? valueSet : null));
    }

    private boolean confirmedCoding(String system, String code, String display, String valueSet) {
        if (!support.isCodeSystemSupported(supportContext, system) || support.fetchValueSet(system) != null) {
            return false;
        }
        ConceptValidationOptions options = new ConceptValidationOptions();
        if (!confirmed(support.validateCode(supportContext, options, system, code, display, null), code, display)) {
            return false;
        }
        if (valueSet == null) {
            return true;
        }
        IBaseResource vs = support.fetchValueSet(valueSet);
        if (vs == null) {
            return false;
        }
        IValidationSupport.CodeValidationResult inValueSet = support.validateCodeInValueSet(supportContext, options, system,
                code, display, vs);
        return confirmed(inValueSet, code, display) || onlyNotInValueSet(inValueSet);
    }

    /**
     * Whether the support's only finding about a code is that it is not in the value set. Under an
     * extensible binding HAPI's validator ignores issues of that type ({@code not-in-vs} in the
     * validator's tx-issue-type code system, {@code InstanceValidator.isIgnoredTxIssueType}) and
     * reports a warning instead ("None of the codings provided are in the value set ... a coding
     * should come from this value set unless it has no suitable code"); every other issue, e.g.
     * an invalid code in a value set of UCUM units or a value set that cannot be expanded, keeps
     * its own severity. HAPI's worker context adds the issues of the code system check to the
     * value set's result; that check must already have confirmed the code without any issue.
     */
    private static boolean onlyNotInValueSet(IValidationSupport.CodeValidationResult result) {
        if (result == null || result.getIssues() == null || result.getIssues().isEmpty()) {
            return false;
        }
        for (IValidationSupport.CodeValidationIssue issue : result.getIssues()) {
            if (issue.getDetails() == null || issue.getDetails().getCodings().size() != 1) {
                return false;
            }
            IValidationSupport.CodeValidationIssueCoding coding = issue.getDetails().getCodings().get(0);
            if (coding == null || !TX_ISSUE_TYPE.equals(coding.getSystem()) || !"not-in-vs".equals(coding.getCode())) {
                return false;
            }
        }
        return true;
    }

    private static boolean confirmed(IValidationSupport.CodeValidationResult result, String code, String display) {
        return result != null && result.isOk() && code.equals(result.getCode()) && result.getSeverity() == null
                && result.getMessage() == null && (result.getIssues() == null || result.getIssues().isEmpty())
                && (display == null || display.equals(result.getDisplay()));
    }

    private boolean unknownSystem(String system) {
        if (system.startsWith("https://") && !unknownSystem("http://" + system.substring("https://".length()))) {
            return false; // the validator refuses the https: form of a code system it knows under http:
        }
        return !support.isCodeSystemSupported(supportContext, system) && support.fetchCodeSystem(system) == null
                && support.fetchValueSet(system) == null && support.fetchStructureDefinition(system) == null;
    }

    private static boolean terminologyHost(String url) {
        String rest = url.substring(url.indexOf("://") + 3);
        int slash = rest.indexOf('/');
        String host = (slash < 0 ? rest : rest.substring(0, slash)).toLowerCase(Locale.ROOT);
        for (String known : TERMINOLOGY_HOSTS) {
            if (host.equals(known) || host.endsWith("." + known)) {
                return true;
            }
        }
        return false;
    }

    /** Identifier systems the validator has rules for (RFC 3986, RFC 4122) or that are not http(s) URLs: not sure. */
    private static boolean identifier(Identifier identifier) {
        return !identifier.hasSystem() || (HTTP_URL.matcher(identifier.getSystem()).matches()
                && !identifier.getSystem().contains("ietf.org"));
    }

    /** Size and hash must match inline data; a content type must be a plain MIME type the terminology accepts. */
    private boolean attachment(Attachment att) {
        if (att.hasLanguage()) {
            return false;
        }
        if (att.hasData()) {
            byte[] data = att.getData();
            if (att.hasSize() && att.getSize() != data.length) {
                return false;
            }
            if (att.hasHash() && !Arrays.equals(sha1(data), att.getHash())) {
                return false;
            }
        }
        return true; // contentType: a required binding, checked as such
    }

    private boolean knownMimeType(String type) {
        IValidationSupport.CodeValidationResult result = support.validateCode(supportContext,
                new ConceptValidationOptions(), "urn:ietf:bcp:13", type, null, MIMETYPES);
        return result != null && result.isOk();
    }

    private static byte[] sha1(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code code} is in the (in-memory expandable) value set; a value set that cannot be expanded: not sure. */
    private boolean inValueSet(String code, String valueSetUrl) {
        if (valueSetUrl == null) {
            return false;
        }
        String url = valueSetUrl.contains("|") ? valueSetUrl.substring(0, valueSetUrl.indexOf('|')) : valueSetUrl;
        if (url.equals(MIMETYPES)) {
            // not enumerable: a plain MIME type that the terminology service accepts
            return MIME_TYPE.matcher(code).matches() && cached(mimeTypes, code, this::knownMimeType);
        }
        return valueSets.computeIfAbsent(url, this::expand).map(codes -> codes.contains(code)).orElse(false);
    }

    private Optional<Set<String>> expand(String url) {
        IValidationSupport.ValueSetExpansionOutcome outcome = support.expandValueSet(supportContext,
                new ValueSetExpansionOptions().setFailOnMissingCodeSystem(true), url);
        if (outcome == null || outcome.getError() != null || !(outcome.getValueSet() instanceof ValueSet vs)) {
            return Optional.empty();
        }
        Set<String> codes = new HashSet<>();
        Set<String> systems = new HashSet<>();
        List<ValueSet.ValueSetExpansionContainsComponent> todo = new ArrayList<>(vs.getExpansion().getContains());
        while (!todo.isEmpty()) {
            ValueSet.ValueSetExpansionContainsComponent c = todo.remove(todo.size() - 1);
            if (c.hasCode() && !c.getAbstract() && !c.getInactive()) {
                codes.add(c.getCode());
            }
            systems.add(c.getSystem());
            todo.addAll(c.getContains());
        }
        // a code element has no system: only value sets drawing on one code system are unambiguous
        return codes.isEmpty() || systems.size() != 1 ? Optional.empty() : Optional.of(Set.copyOf(codes));
    }

    private Pattern regex(String type) {
        return regexes.computeIfAbsent(type, t -> {
            Definition d = definition(t);
            ElementDefinition value = d == null ? null : d.byPath().get(t + ".value");
            if (value == null) {
                return Optional.empty();
            }
            for (TypeRefComponent tr : value.getType()) {
                Extension ext = tr.getExtensionByUrl(REGEX_EXTENSION);
                if (ext != null && ext.hasValue()) {
                    return Optional.of(Pattern.compile(ext.getValue().primitiveValue()));
                }
            }
            return Optional.empty();
        }).orElse(null);
    }

    private Definition definition(String type) {
        return definitions.computeIfAbsent(type, t -> {
            IBaseResource fetched = support.fetchStructureDefinition(CORE + t);
            return fetched instanceof StructureDefinition sd ? definition(sd) : Optional.<Definition>empty();
        }).orElse(null);
    }

    private static Optional<Definition> definition(StructureDefinition sd) {
            if (!sd.hasSnapshot() || !sd.getFhirVersion().toCode().startsWith("4.0")) {
                return Optional.empty();
            }
            Map<String, ElementDefinition> byPath = new HashMap<>();
            Map<String, List<Child>> children = new HashMap<>();
            ElementDefinition root = null;
            for (ElementDefinition shared : sd.getSnapshot().getElement()) {
                if (shared.hasSliceName()) {
                    continue;
                }
                // a copy of our own: the model's getters create missing lists on first use, which
                // must not happen on definitions shared with the validation support; all of them
                // are touched here, before the definition is published to other threads
                ElementDefinition ed = shared.copy();
                ed.getExtension();
                ed.getConstraint();
                for (TypeRefComponent tr : ed.getType()) {
                    tr.getExtension();
                    tr.getTargetProfile();
                    tr.getProfile();
                }
                if (root == null) {
                    root = ed;
                }
                byPath.put(ed.getPath(), ed);
                int dot = ed.getPath().lastIndexOf('.');
                if (dot > 0) {
                    String name = ed.getPath().substring(dot + 1);
                    String parent = ed.getPath().substring(0, dot);
                    children.computeIfAbsent(parent, p -> new ArrayList<>()).add(Child.of(name, ed)); // choices keep their [x], as in the model
                }
            }
            return root == null ? Optional.empty() : Optional.of(new Definition(root, Map.copyOf(byPath), Map.copyOf(children)));
    }

}
