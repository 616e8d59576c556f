package org.carerelay.gateway.patient;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.text.Normalizer;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BinaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.routes.crypto.ContentCipher;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Keyed hashes (HMAC-SHA256 with a key derived from the data key) of what patients are looked up
 * by: the KVNR, other identifiers, name parts, birth date and gender. The stored patient itself is
 * encrypted, so these hashes are the only searchable form; without the data key they reveal
 * nothing (an attacker cannot try KVNRs against them). Matches are exact: a name part matches
 * case-insensitively as a whole, never as a substring.
 */
@Component
public class PatientIndex {

    static final String FAMILY = "family";
    static final String GIVEN = "given";
    static final String NAME = "name";
    static final String BIRTHDATE = "birthdate";
    static final String GENDER = "gender";
    static final String IDENTIFIER = "identifier";
    static final String IDENTIFIER_VALUE = "identifier-value";
    static final String IDENTIFIER_SYSTEM = "identifier-system";

    private final JdbcClient jdbc;
    private final SecretKeySpec key;
    /** One initialised MAC per thread: looking one up and initialising it costs more than a hash. */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    public PatientIndex(JdbcClient jdbc, ContentCipher dataKey) {
        this.jdbc = jdbc;
        this.key = new SecretKeySpec(dataKey.deriveKey("patient-index"), "HmacSHA256");
    }

    /** The keyed hash of {@code value} as a {@code kind} (name parts normalised: NFC, lower case). */
    public String hash(String kind, String value) {
        byte[] kindBytes = kind.getBytes(StandardCharsets.UTF_8);
        byte[] valueBytes = value.getBytes(StandardCharsets.UTF_8); // before the first update: a failure leaves the MAC clean
        Mac mac = macs.get(); // doFinal leaves it ready for the next hash with the same key
        mac.update(kindBytes);
        mac.update((byte) 0);
        return HexFormat.of().formatHex(mac.doFinal(valueBytes));
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public String kvnr(String kvnr) {
        return hash("kvnr", kvnr);
    }

    public String identifier(String system, String value) {
        return hash(IDENTIFIER, system + "|" + value);
    }

    /** Whole name parts and their space- or hyphen-separated pieces, normalised. */
    static Set<String> tokens(String text) {
        Set<String> out = new LinkedHashSet<>();
        if (text == null) {
            return out;
        }
        String normalized = normalize(text);
        if (!normalized.isEmpty()) {
            out.add(normalized);
        }
        for (String piece : normalized.split("[\\s\\-]+")) {
            if (!piece.isEmpty()) {
                out.add(piece);
            }
        }
        return out;
    }

    static String normalize(String text) {
        return Normalizer.normalize(text, Normalizer.Form.NFC).trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    }

    /**
     * Rewrites the search hashes of one patient from its current content: nothing when they are the
     * ones stored (read back and compared), otherwise the old rows deleted and the new ones written
     * in one statement for all of them.
     */
    public void reindex(Patient patient) {
        write(patient.getIdElement().getIdPart(), rows(patient, this::hash));
    }

    /**
     * As {@link #reindex(Patient)} for a new version of a patient that replaces {@code replaced}
     * (read in the same transaction, the version the new one was written over): without a statement
     * when the hashes would be made of the same values as the replaced version's. Those are the
     * stored ones: every sealed version of a patient is written together with its hashes. A version
     * an earlier release stored in plaintext ({@link ResourceStore#storedInPlaintext}) may have none,
     * so it is compared with what is stored.
     */
    public void reindex(Patient patient, Patient replaced) {
        if (replaced != null && !ResourceStore.storedInPlaintext(replaced)
                && rows(patient, PatientIndex::unhashed).equals(rows(replaced, PatientIndex::unhashed))) {
            return;
        }
        reindex(patient);
    }

    /** In place of the hash: the value itself, so {@link #rows} gives what the hashes are made of. */
    private static String unhashed(String kind, String value) {
        return value;
    }

    /**
     * The search rows of a patient: {@code kind + " " + hash(kind, value)} (a kind has no space). A
     * change to what goes into them (here, {@link #tokens}, {@link #normalize}, the key) needs every
     * patient indexed anew once: an update that keeps a patient's values no longer rewrites its rows.
     */
    private static Set<String> rows(Patient patient, BinaryOperator<String> hash) {
        Set<String> rows = new LinkedHashSet<>();
        BiConsumer<String, String> add = (kind, value) -> rows.add(kind + " " + hash.apply(kind, value));
        for (HumanName name : patient.getName()) {
            tokens(name.getFamily()).forEach(t -> {
                add.accept(FAMILY, t);
                add.accept(NAME, t);
            });
            name.getGiven().forEach(g -> tokens(g.getValue()).forEach(t -> {
                add.accept(GIVEN, t);
                add.accept(NAME, t);
            }));
            tokens(name.getText()).forEach(t -> add.accept(NAME, t));
        }
        if (patient.hasBirthDateElement() && patient.getBirthDateElement().getValueAsString() != null) {
            add.accept(BIRTHDATE, patient.getBirthDateElement().getValueAsString());
        }
        if (patient.hasGender()) {
            add.accept(GENDER, patient.getGender().toCode());
        }
        for (Identifier identifier : patient.getIdentifier()) {
            // the elements' values: an element may be there with only an id or extension (no value)
            if (identifier.getValueElement().hasValue()) {
                add.accept(IDENTIFIER_VALUE, identifier.getValue());
                if (identifier.getSystemElement().hasValue()) {
                    add.accept(IDENTIFIER_SYSTEM, identifier.getSystem());
                    add.accept(IDENTIFIER, identifier.getSystem() + "|" + identifier.getValue()); // as identifier(system, value)
                }
            }
        }
        return rows;
    }

    private void write(String id, Set<String> rows) {
        Set<String> stored = new HashSet<>(jdbc.sql("select kind || ' ' || hash from patient_search_token where patient_id = ?")
                .param(id).query(String.class).list());
        if (stored.equals(rows)) {
            return;
        }
        if (!stored.isEmpty()) {
            jdbc.sql("delete from patient_search_token where patient_id = ?").param(id).update();
        }
        if (!rows.isEmpty()) {
            String[] kinds = rows.stream().map(r -> r.substring(0, r.indexOf(' '))).toArray(String[]::new);
            String[] hashes = rows.stream().map(r -> r.substring(r.indexOf(' ') + 1)).toArray(String[]::new);
            jdbc.sql("insert into patient_search_token (patient_id, kind, hash) "
                    + "select ?, kind, hash from unnest(?::text[], ?::text[]) as t(kind, hash) on conflict do nothing")
                    .params(id, kinds, hashes).update();
        }
    }

    /** SQL predicate: the patient row ({@code fhir_resource.id}) has a hash of this kind named {@code :param}. */
    static String has(String kind, String param) {
        return "exists (select 1 from patient_search_token pst where pst.patient_id = fhir_resource.id and pst.kind = '"
                + kind + "' and pst.hash = :" + param + ")";
    }
}
