package org.carerelay.gateway.store;

import ca.uhn.fhir.rest.param.BaseParam;
import ca.uhn.fhir.rest.param.StringParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Collects SQL predicates over the {@code content} jsonb column for a FHIR search. Parameters are
 * always bound, never concatenated.
 */
public final class SearchBuilder {

    private final List<String> predicates = new ArrayList<>();
    private final Map<String, Object> params = new LinkedHashMap<>();

    private String bind(Object value) {
        String name = "p" + params.size();
        params.put(name, value);
        return ":" + name;
    }

    public SearchBuilder where(String predicate) {
        predicates.add(predicate);
        return this;
    }

    /** JSON containment: {@code content @> json}. */
    public SearchBuilder contains(String json) {
        predicates.add("content @> " + bind(json) + "::jsonb");
        return this;
    }

    /** Case-insensitive substring match on a top-level string element. */
    public SearchBuilder textContains(String jsonPathExpression, StringParam param) {
        refuseMissingModifier(param);
        if (param == null || param.isEmpty()) {
            return this;
        }
        String value = "%" + escapeLike(param.getValue().toLowerCase(Locale.ROOT)) + "%";
        if (param.isExact()) {
            predicates.add(jsonPathExpression + " = " + bind(param.getValue()));
        } else {
            predicates.add("lower(" + jsonPathExpression + ") like " + bind(value));
        }
        return this;
    }

    /** Case-insensitive prefix match (FHIR string search default) on an array element's field. */
    public SearchBuilder arrayFieldStartsWith(String arrayPath, String field, StringParam param) {
        refuseMissingModifier(param);
        if (param == null || param.isEmpty()) {
            return this;
        }
        String value = escapeLike(param.getValue().toLowerCase(Locale.ROOT))
                + "%";
        predicates.add("exists (select 1 from jsonb_array_elements(coalesce(" + arrayPath + ", '[]'::jsonb)) e "
                + "where lower(e->>'" + field + "') like " + bind(param.isContains() ? "%" + value : value) + ")");
        return this;
    }

    /** Token match on an array of Identifier ({@code system|value}, {@code value} or {@code system|}). */
    public SearchBuilder identifier(String element, TokenParam token) {
        refuseMissingModifier(token);
        if (token == null || token.isEmpty()) {
            return this;
        }
        StringBuilder json = new StringBuilder("{\"").append(element).append("\":[{");
        boolean comma = false;
        if (token.getSystem() != null && !token.getSystem().isBlank()) {
            json.append("\"system\":").append(Json.quote(token.getSystem()));
            comma = true;
        }
        if (token.getValue() != null && !token.getValue().isBlank()) {
            if (comma) {
                json.append(',');
            }
            json.append("\"value\":").append(Json.quote(token.getValue()));
        }
        json.append("}]}");
        return contains(json.toString());
    }

    /** Token match on an array of CodeableConcept. */
    public SearchBuilder codeableConcept(String element, TokenParam token) {
        refuseMissingModifier(token);
        if (token == null || token.isEmpty()) {
            return this;
        }
        StringBuilder json = new StringBuilder("{\"").append(element).append("\":[{\"coding\":[{");
        boolean comma = false;
        if (token.getSystem() != null && !token.getSystem().isBlank()) {
            json.append("\"system\":").append(Json.quote(token.getSystem()));
            comma = true;
        }
        if (token.getValue() != null && !token.getValue().isBlank()) {
            if (comma) {
                json.append(',');
            }
            json.append("\"code\":").append(Json.quote(token.getValue()));
        }
        json.append("}]}]}");
        return contains(json.toString());
    }

    /** Reference match on a single Reference element ({@code Organization/123} or {@code 123}). */
    public SearchBuilder reference(String element, String resourceType, String idPart) {
        if (idPart == null || idPart.isBlank()) {
            return this;
        }
        return contains("{\"" + element + "\":{\"reference\":" + Json.quote(resourceType + "/" + idPart) + "}}");
    }

    /**
     * The {@code :missing} modifier is not offered (see the README's search parameters); HAPI
     * hands it over as a parameter without a value, which would otherwise match on nothing sensible.
     */
    public static void refuseMissingModifier(BaseParam param) {
        if (param != null && param.getMissing() != null) {
            throw new InvalidRequestException("The :missing modifier is not supported.");
        }
    }

    public String sql() {
        return String.join(" and ", predicates);
    }

    public Map<String, Object> params() {
        return params;
    }

    private static String escapeLike(String s) {
        return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    /** Minimal JSON string quoting for values placed into containment documents. */
    public static final class Json {
        private Json() {
        }

        /** {@code s} as a JSON string literal, control characters escaped. */
        public static String quote(String s) {
            StringBuilder sb = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            return sb.append('"').toString();
        }
    }
}
