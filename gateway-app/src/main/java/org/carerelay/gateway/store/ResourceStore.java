package org.carerelay.gateway.store;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.fhir.GatewayException;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.carerelay.routes.crypto.ContentCipher;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

/**
 * Stores FHIR resources as JSON (PostgreSQL {@code jsonb}), current version plus full history.
 * Searches are SQL predicates over the JSON, written by the resource providers. Resources with
 * personal data ({@link #SEALED_TYPES}: patients) are encrypted with the data key (AES-256-GCM,
 * column {@code sealed}); their {@code content} keeps only type, id and meta, and they are found
 * through keyed-hash indexes kept by their service.
 */
@Repository
public class ResourceStore {

    /** Resource types stored encrypted. */
    public static final Set<String> SEALED_TYPES = Set.of("Patient");

    /**
     * User data key ({@code IBase.getUserData}) set on a resource of a {@link #SEALED_TYPES sealed type}
     * that {@link #read} or {@link #search} found stored in plaintext: written by an earlier version
     * and not yet converted on start, so nothing kept beside such a row (a patient's search hashes)
     * can be assumed to match it.
     */
    public static final String STORED_IN_PLAINTEXT = "carerelay.stored-in-plaintext";

    /** Whether {@code resource}, as read or found here, was stored in plaintext though its type is sealed. */
    public static boolean storedInPlaintext(IBaseResource resource) {
        return Boolean.TRUE.equals(resource.getUserData(STORED_IN_PLAINTEXT));
    }

    private static <T extends IBaseResource> T marked(T resource, String typeName, byte[] sealed) {
        if (sealed == null && SEALED_TYPES.contains(typeName)) {
            resource.setUserData(STORED_IN_PLAINTEXT, Boolean.TRUE);
        }
        return resource;
    }

    private final JdbcClient jdbc;
    private final FhirContext fhirContext;
    private final ContentCipher cipher;
    private final ParsedResources parsed = new ParsedResources();

    public ResourceStore(JdbcClient jdbc, FhirContext fhirContext, ContentCipher cipher) {
        this.jdbc = jdbc;
        this.fhirContext = fhirContext;
        this.cipher = cipher;
    }

    private IParser parser() {
        return fhirContext.newJsonParser();
    }

    /**
     * Whether two resources would be stored as the same JSON (every value as written, not as parsed).
     * Resources that differ as values ({@code equalsDeep}: every element, id and extension) are taken
     * as different without encoding them; encoding both took 6 % of an HL7 ADT's time, most of them
     * messages that change the patient. That needs both built alike: HAPI's model can hold what JSON
     * cannot tell apart (an empty list member, a date with milliseconds below its precision, a
     * {@code CodeType} where parsing gives an {@code Enumeration}), and then an unchanged resource would
     * count as changed. The callers compare a patient read from the store with a copy that has the
     * values of an HL7 message merged in; {@code AdtToPatientTest} checks that what the mapping builds
     * reads back from its JSON equal as values.
     */
    public boolean sameContent(IBaseResource a, IBaseResource b) {
        if (a instanceof Base x && b instanceof Base y && !x.equalsDeep(y)) {
            return false;
        }
        IParser json = parser();
        return json.encodeResourceToString(a).equals(json.encodeResourceToString(b));
    }

    public static String newId() {
        return UUID.randomUUID().toString();
    }

    /** Writes {@code resource} as a new resource; assigns an id when it has none. */
    @Transactional
    public <T extends Resource> T create(T resource) {
        String id = resource.getIdElement().hasIdPart() ? resource.getIdElement().getIdPart() : newId();
        return write(resource, id, 1, true);
    }

    /** Writes a new version of an existing resource, or the first version if it does not exist. */
    @Transactional
    public <T extends Resource> T update(T resource) {
        return update(resource, null);
    }

    /**
     * Writes a new version when the stored one is {@code expectedVersion} (the version a client's
     * {@code If-Match} names); {@code null} expects nothing. Checked under the row lock, so two
     * updates of the same version cannot both succeed.
     *
     * @throws GatewayException {@code version-conflict} (412) when the stored version differs
     */
    @Transactional
    public <T extends Resource> T update(T resource, String expectedVersion) {
        return updateLocked(resource, lockVersion(resource.fhirType(), resource.getIdElement().getIdPart(), expectedVersion));
    }

    /**
     * Writes the next version of a resource whose row the surrounding transaction has locked with
     * {@link #lockVersion}, which returned {@code lockedVersion} ({@code null}: it did not exist):
     * the update without locking and reading the version again.
     */
    @Transactional(propagation = Propagation.MANDATORY)
    public <T extends Resource> T updateLocked(T resource, Integer lockedVersion) {
        return write(resource, resource.getIdElement().getIdPart(), lockedVersion == null ? 1 : lockedVersion + 1, lockedVersion == null);
    }

    /**
     * Locks the resource's row until the surrounding transaction ends and returns its version
     * ({@code null} when it does not exist). When {@code expectedVersion} is given, the resource
     * must exist at exactly that version. Services whose update does more than one write call this
     * first, inside their transaction, so a stale {@code If-Match} changes and sends nothing.
     *
     * @throws GatewayException {@code version-conflict} (412) when the stored version differs
     */
    @Transactional
    public Integer lockVersion(String type, String id, String expectedVersion) {
        Integer current = jdbc.sql("select version_id from fhir_resource where resource_type = ? and id = ? for update")
                .params(type, id).query(Integer.class).optional().orElse(null);
        if (expectedVersion != null && (current == null || !expectedVersion.equals(current.toString()))) {
            throw new GatewayException(ErrorCode.VERSION_CONFLICT, current == null
                    ? type + "/" + id + " does not exist; If-Match names version " + expectedVersion + "."
                    : type + "/" + id + " is at version " + current + ", not " + expectedVersion
                            + " (If-Match); read it again and apply the change to the current version.");
        }
        return current;
    }

    /** The current version of a stored resource, empty when it does not exist. */
    public Optional<Integer> currentVersion(String type, String id) {
        return jdbc.sql("select version_id from fhir_resource where resource_type = ? and id = ?")
                .params(type, id).query(Integer.class).optional();
    }

    public boolean exists(String type, String id) {
        return jdbc.sql("select count(*) from fhir_resource where resource_type = ? and id = ?")
                .params(type, id).query(Integer.class).single() > 0;
    }

    /**
     * Which of {@code ids} exist as resources of {@code type} (one statement for all of them). The
     * ids are parameters of their own ({@code in (?, ?)}), one prepared statement per count: with
     * one array parameter ({@code = any (?)}) PostgreSQL planned the statement at every execution
     * (its plan for an array of unknown length looks dearer than one for the array at hand), four
     * times as long as it ran (0.19 against 0.05 ms per accepted message in the pipeline benchmark).
     * More than {@link #IN_LIST_MAX} ids go as one array, as before: a statement takes at most
     * 65,535 parameters.
     */
    public Set<String> existing(String type, Collection<String> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        Set<String> distinct = Set.copyOf(ids);
        if (distinct.size() > IN_LIST_MAX) {
            return Set.copyOf(jdbc.sql("select id from fhir_resource where resource_type = ? and id = any (?)")
                    .params(type, distinct.toArray(new String[0])).query(String.class).list());
        }
        return Set.copyOf(jdbc.sql("select id from fhir_resource where resource_type = :type and id in (:ids)")
                .param("type", type).param("ids", distinct).query(String.class).list());
    }

    /** The most ids {@link #existing} sends as parameters of their own. */
    static final int IN_LIST_MAX = 100;

    private <T extends Resource> T write(T resource, String id, int version, boolean insert) {
        if (!tryWrite(resource, id, version, insert)) {
            throw new IllegalStateException(resource.fhirType() + "/" + id + " is not at version " + (version - 1)
                    + ", which this update follows");
        }
        return resource;
    }

    /**
     * Writes version {@code version} of the resource and its history row in one statement (one round
     * trip to the database). An update applies only where the stored version is the one before:
     * {@code false} (nothing written) otherwise. The statement takes the row lock, so a caller that
     * read version {@code n} without a lock and writes {@code n + 1} this way cannot overwrite a
     * version written meanwhile.
     */
    private <T extends Resource> boolean tryWrite(T resource, String id, int version, boolean insert) {
        String type = resource.fhirType();
        Instant now = Instant.now();
        resource.setId(type + "/" + id + "/_history/" + version);
        resource.getMeta().setVersionId(Integer.toString(version)).setLastUpdated(Date.from(now));
        String json = parser().encodeResourceToString(resource);
        Timestamp ts = Timestamp.from(now);
        Stored stored = seal(type, id, resource, json);
        int written;
        if (insert) {
            written = jdbc.sql("with r as (insert into fhir_resource (resource_type, id, version_id, last_updated, content, sealed, key_id) "
                    + "values (?, ?, ?, ?, ?::jsonb, ?, ?) returning resource_type, id, version_id, last_updated, content, sealed, key_id) "
                    + HISTORY_FROM_R)
                    .params(type, id, version, ts, stored.content(), stored.sealed(), stored.keyId()).update();
        } else {
            // the version this one follows: a caller that locked or read another version (or none) writes nothing
            written = jdbc.sql("with r as (update fhir_resource set version_id = ?, last_updated = ?, content = ?::jsonb, sealed = ?, key_id = ? "
                    + "where resource_type = ? and id = ? and version_id = ? "
                    + "returning resource_type, id, version_id, last_updated, content, sealed, key_id) " + HISTORY_FROM_R)
                    .params(version, ts, stored.content(), stored.sealed(), stored.keyId(), type, id, version - 1).update();
        }
        return written == 1;
    }

    private static final String HISTORY_FROM_R = "insert into fhir_resource_history "
            + "(resource_type, id, version_id, last_updated, content, sealed, key_id) "
            + "select resource_type, id, version_id, last_updated, content, sealed, key_id from r";

    /**
     * Writes the version after {@code readVersion} (a version read without a lock) when that is still
     * the stored one, without locking first; {@code false}, and nothing written, when another
     * version was written meanwhile (the caller then locks, reads again and decides again). Either
     * way the row may be locked afterwards, until the transaction ends: PostgreSQL locks the row it
     * waited for before it finds that the version no longer matches.
     */
    @Transactional(propagation = Propagation.MANDATORY)
    public <T extends Resource> boolean updateIfStill(T resource, int readVersion) {
        return tryWrite(resource, resource.getIdElement().getIdPart(), readVersion + 1, false);
    }

    /** What goes into the row: the JSON itself, or for a sealed type a stub plus the encrypted JSON. */
    public record Stored(String content, byte[] sealed, String keyId) {
    }

    /** The row form of {@code json} (a version of resource {@code type}/{@code id}). */
    public Stored seal(String type, String id, IBaseResource resource, String json) {
        if (!SEALED_TYPES.contains(type)) {
            return new Stored(json, null, null);
        }
        Resource stub = (Resource) fhirContext.getResourceDefinition(type).newInstance();
        stub.setId(resource.getIdElement());
        stub.setMeta(((Resource) resource).getMeta().copy());
        byte[] sealed = cipher.encrypt(json.getBytes(StandardCharsets.UTF_8), associatedData(type, id));
        return new Stored(parser().encodeResourceToString(stub), sealed, cipher.keyId());
    }

    private static byte[] associatedData(String type, String id) {
        return (type + "/" + id).getBytes(StandardCharsets.UTF_8);
    }

    /** The stored JSON of a row: decrypted when sealed. */
    private String open(String type, String id, String content, byte[] sealed) {
        return sealed == null ? content : new String(cipher.decrypt(sealed, associatedData(type, id)), StandardCharsets.UTF_8);
    }

    public <T extends IBaseResource> Optional<T> read(Class<T> type, String id) {
        String typeName = fhirContext.getResourceType(type);
        record Row(String json, byte[] sealed) {
        }
        return jdbc.sql("select content::text, sealed from fhir_resource where resource_type = ? and id = ?")
                .params(typeName, id)
                .query((rs, i) -> {
                    byte[] sealed = rs.getBytes(2);
                    return new Row(open(typeName, id, rs.getString(1), sealed), sealed);
                }).optional()
                .map(row -> marked(parsed.parse(type, typeName, id, row.json(), text -> parser().parseResource(type, text)), typeName,
                        row.sealed()));
    }

    /**
     * The resource {@code id} names: the version it names ({@code X/{id}/_history/{v}}, a vread),
     * or the current one when it names none.
     */
    public <T extends IBaseResource> Optional<T> readAt(Class<T> type, IIdType id) {
        return id.hasVersionIdPart() ? readVersion(type, id.getIdPart(), id.getVersionIdPart()) : read(type, id.getIdPart());
    }

    /**
     * Version {@code version} of a resource from its history (every version written is kept);
     * empty when the resource or that version does not exist.
     */
    public <T extends IBaseResource> Optional<T> readVersion(Class<T> type, String id, String version) {
        if (version == null || !version.matches("\\d{1,9}")) {
            return Optional.empty();
        }
        String typeName = fhirContext.getResourceType(type);
        return jdbc.sql("select content::text, sealed from fhir_resource_history where resource_type = ? and id = ? and version_id = ?")
                .params(typeName, id, Integer.parseInt(version))
                .query((rs, i) -> open(typeName, id, rs.getString(1), rs.getBytes(2))).optional()
                .map(json -> parser().parseResource(type, json));
    }

    /**
     * One page of a search as HAPI pages it ({@link SearchPage}): the total is a count with
     * {@code where}, the page a {@link #search} at {@code offset}; {@code present} turns the stored
     * resources into what the caller is shown (computed flags, masked secrets) and is called once
     * per page, also for an empty one (the page audit).
     */
    public <T extends IBaseResource> IBundleProvider searchPage(Class<T> type, String where, Map<String, ?> params,
            int offset, int pageSize, Function<List<T>, List<? extends IBaseResource>> present) {
        boolean[] presented = {false};
        IBundleProvider provider = SearchPage.of(offset, pageSize, () -> count(type, where, params), (from, size) -> {
            presented[0] = true;
            return present.apply(search(type, where, params, size, from));
        });
        if (!presented[0]) {
            present.apply(List.of()); // an empty page is shown too (and audited as such)
        }
        return provider;
    }

    /**
     * Resources of {@code type} matching {@code where} (an SQL predicate over the column
     * {@code content}, with named parameters), ordered by last update, newest first.
     */
    public <T extends IBaseResource> List<T> search(Class<T> type, String where, Map<String, ?> params, int limit, int offset) {
        return search(type, where, params, null, limit, offset).stream().map(Found::resource).toList();
    }

    /** A resource a search found, and whether its row met the search's {@code condition}. */
    public record Found<T>(T resource, boolean condition) {
    }

    /**
     * As {@link #search(Class, String, Map, int, int)}, each resource with the value of
     * {@code condition} (an SQL condition over the row, {@code fhir_resource.id} its id) read in the
     * same statement: what would otherwise be asked of each resource found in a statement of its own.
     * {@code condition} is SQL written in the code, never anything a caller sent; its named
     * parameters go into {@code params}.
     * <p>
     * The condition costs PostgreSQL's estimate something per row found. The plan it keeps for a
     * prepared statement is made for unknown values; where it expects more rows for those than for
     * the values at hand, it rates that plan dearer and plans the statement anew at every execution,
     * which costs more than a second statement would (seen on the HL7 sender's directory lookup by
     * identifier, which therefore asks the registration apart). So use it where {@code where} finds
     * one row by its key whatever the values (such as {@code id = (…)}).
     */
    public <T extends IBaseResource> List<Found<T>> search(Class<T> type, String where, Map<String, ?> params, String condition,
            int limit, int offset) {
        String typeName = fhirContext.getResourceType(type);
        String sql = "select id, content::text, sealed" + (condition == null ? "" : ", coalesce(" + condition + ", false)")
                + " from fhir_resource where resource_type = :type"
                + (where == null || where.isBlank() ? "" : " and (" + where + ")")
                + " order by last_updated desc, id limit :limit offset :offset";
        record Row(String id, String json, byte[] sealed, boolean condition) {
        }
        return jdbc.sql(sql)
                .params(params)
                .param("type", typeName)
                .param("limit", limit)
                .param("offset", offset)
                .query((rs, i) -> {
                    String id = rs.getString(1);
                    byte[] sealed = rs.getBytes(3);
                    return new Row(id, open(typeName, id, rs.getString(2), sealed), sealed, condition != null && rs.getBoolean(4));
                }).list().stream()
                .map(row -> new Found<>(marked(parsed.parse(type, typeName, row.id(), row.json(),
                        text -> parser().parseResource(type, text)), typeName, row.sealed()), row.condition()))
                .toList();
    }

    public int count(Class<? extends IBaseResource> type, String where, Map<String, ?> params) {
        String sql = "select count(*) from fhir_resource where resource_type = :type"
                + (where == null || where.isBlank() ? "" : " and (" + where + ")");
        return jdbc.sql(sql).params(params).param("type", fhirContext.getResourceType(type))
                .query(Integer.class).single();
    }
}
