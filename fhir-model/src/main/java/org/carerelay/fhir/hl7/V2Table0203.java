package org.carerelay.fhir.hl7;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The codes of HL7 table 0203 (identifier type) as the FHIR R4 code system
 * {@code http://terminology.hl7.org/CodeSystem/v2-0203} that HAPI's validator ships holds them
 * (version 2.9, 127 codes). A fixed list, so that mapping an identifier needs no terminology
 * loaded; a test compares it with the code system the validator knows.
 */
final class V2Table0203 {

    static final Map<String, String> CODE_BY_UPPER_CASE = Stream.of(
            "AC", "ACSN", "AM", "AMA", "AN", "ANC", "AND", "ANON", "ANT", "APRN", "ASID", "BA", "BC", "BCFN",
            "BCT", "BR", "BRN", "BSNR", "CC", "CONM", "CY", "CZ", "DC", "DCFN", "DDS", "DEA", "DFN", "DI",
            "DL", "DN", "DO", "DP", "DPM", "DR", "DS", "EI", "EN", "ESN", "FDR", "FDRFN", "FI", "FILL", "GI",
            "GL", "GN", "HC", "IND", "JHN", "LACSN", "LANR", "LI", "LN", "LR", "MA", "MB", "MC", "MCD", "MCN",
            "MCR", "MCT", "MD", "MI", "MR", "MRT", "MS", "NBSNR", "NCT", "NE", "NH", "NI", "NII", "NIIP",
            "NNxxx", "NP", "NPI", "OBI", "OD", "PA", "PC", "PCN", "PE", "PEN", "PHC", "PHE", "PHO", "PI",
            "PLAC", "PN", "PNT", "PPIN", "PPN", "PRC", "PRN", "PT", "QA", "RI", "RN", "RPH", "RR", "RRI",
            "RRP", "SB", "SID", "SL", "SN", "SNBSN", "SNO", "SP", "SR", "SS", "STN", "TAX", "TN", "TPR",
            "TRL", "U", "UDI", "UPIN", "USID", "VN", "VP", "VS", "WC", "WCN", "WP", "XV", "XX")
            .collect(Collectors.toUnmodifiableMap(code -> code.toUpperCase(Locale.ROOT), Function.identity()));

    private V2Table0203() {
    }

    /**
     * The table's code for {@code code}, spelt as the table spells it (the code system is not
     * case-sensitive), or empty when the table has no such code.
     */
    static Optional<String> code(String code) {
        return code == null ? Optional.empty()
                : Optional.ofNullable(CODE_BY_UPPER_CASE.get(code.trim().toUpperCase(Locale.ROOT)));
    }
}
