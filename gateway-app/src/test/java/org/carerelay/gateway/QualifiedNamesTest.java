package org.carerelay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Main code imports the types it uses instead of naming them inline by their fully-qualified name.
 * A qualified name stays only where the simple name is already taken in that file: by an imported
 * type of another package (HAPI HL7's {@code ErrorCode} next to CareRelay's), a type declared in
 * the file, a type of the same package, {@code java.lang}, or a second qualified type of the same
 * simple name.
 */
class QualifiedNamesTest {

    private static final List<Path> SOURCE_ROOTS = List.of(
            Path.of("src/main/java"), Path.of("../routes/src/main/java"), Path.of("../fhir-model/src/main/java"));

    private static final Pattern QUALIFIED = Pattern.compile(
            "(?<![\\w.])((?:java|javax|jakarta|org|ca|com|io|net)\\.(?:[a-z_][a-z0-9_]*\\.)+)([A-Z]\\w*)");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import\\s+(static\\s+)?([\\w.]+)\\s*;");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;");
    private static final Pattern DECLARED = Pattern.compile("\\b(?:class|interface|enum|record)\\s+([A-Z]\\w*)");

    @Test
    void mainCodeImportsTypesInsteadOfNamingThemInline() throws IOException {
        List<String> inline = new ArrayList<>();
        for (Path root : SOURCE_ROOTS) {
            assertThat(root).isDirectory();
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(f -> f.toString().endsWith(".java"))
                        .forEach(f -> inline.addAll(inlineNames(f)));
            }
        }
        assertThat(inline).as("types named inline although an import would do").isEmpty();
    }

    @Test
    void theCheckFindsAnInlineNameAndAllowsAClash() {
        String inline = """
                package org.example;

                import java.util.List;

                class A {
                    List<String> names = new java.util.ArrayList<>(); // java.util.HashMap in a comment is fine
                    String text = "java.util.Locale in a string is fine";
                }
                """;
        String clash = """
                package org.example;

                import org.carerelay.fhir.ErrorCode;

                class B {
                    Object code = ca.uhn.hl7v2.ErrorCode.errorCodeFor(100);
                    ErrorCode own = ErrorCode.FORBIDDEN;
                }
                """;
        assertThat(inlineNames("A.java", inline, Set.of("A"))).containsExactly("A.java:6: java.util.ArrayList");
        assertThat(inlineNames("B.java", clash, Set.of("B"))).isEmpty();
    }

    private static List<String> inlineNames(Path file) {
        try (Stream<Path> siblings = Files.list(file.getParent())) {
            Set<String> samePackage = new HashSet<>();
            siblings.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java"))
                    .forEach(n -> samePackage.add(n.substring(0, n.length() - ".java".length())));
            return inlineNames(file.toString(), Files.readString(file), samePackage);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code file:line: qualified.Name} for each inline qualified name that an import could replace. */
    static List<String> inlineNames(String file, String source, Set<String> samePackage) {
        String code = withoutCommentsAndLiterals(source);
        Matcher pkg = PACKAGE.matcher(source);
        String ownPackage = pkg.find() ? pkg.group(1) : "";
        Map<String, String> imported = new HashMap<>();
        Matcher imports = IMPORT.matcher(source);
        while (imports.find()) {
            if (imports.group(1) == null && !imports.group(2).endsWith("*")) {
                String name = imports.group(2);
                imported.put(name.substring(name.lastIndexOf('.') + 1), name);
            }
        }
        Set<String> declared = new HashSet<>();
        Matcher declarations = DECLARED.matcher(code);
        while (declarations.find()) {
            declared.add(declarations.group(1));
        }
        Map<String, Set<String>> qualifiersBySimpleName = new HashMap<>();
        String[] lines = code.split("\n", -1);
        List<String> hits = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].stripLeading().startsWith("import ") || lines[i].stripLeading().startsWith("package ")) {
                continue;
            }
            Matcher m = QUALIFIED.matcher(lines[i]);
            while (m.find()) {
                String qualifier = m.group(1).substring(0, m.group(1).length() - 1);
                qualifiersBySimpleName.computeIfAbsent(m.group(2), k -> new HashSet<>()).add(qualifier);
                hits.add((i + 1) + "\t" + qualifier + "\t" + m.group(2));
            }
        }
        List<String> inline = new ArrayList<>();
        for (String hit : hits) {
            String[] parts = hit.split("\t");
            String qualifier = parts[1];
            String simple = parts[2];
            String qualified = qualifier + "." + simple;
            boolean clash = qualifiersBySimpleName.get(simple).size() > 1
                    || (imported.containsKey(simple) && !imported.get(simple).equals(qualified))
                    || (!qualifier.equals(ownPackage)
                            && (declared.contains(simple) || samePackage.contains(simple) || inJavaLang(simple)));
            if (!clash) {
                inline.add(file + ":" + parts[0] + ": " + qualified);
            }
        }
        return inline;
    }

    private static boolean inJavaLang(String simpleName) {
        try {
            Class.forName("java.lang." + simpleName);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The source with comments, string, text block and char literals blanked out; line breaks kept. */
    static String withoutCommentsAndLiterals(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        int n = source.length();
        while (i < n) {
            int end;
            if (source.startsWith("//", i)) {
                end = source.indexOf('\n', i);
                end = end < 0 ? n : end;
            } else if (source.startsWith("/*", i)) {
                end = source.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
            } else if (source.startsWith("\"\"\"", i)) {
                end = source.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end + 3;
            } else if (source.charAt(i) == '"' || source.charAt(i) == '\'') {
                char quote = source.charAt(i);
                end = i + 1;
                while (end < n && source.charAt(end) != quote) {
                    end += source.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(end + 1, n);
            } else {
                out.append(source.charAt(i++));
                continue;
            }
            for (int j = i; j < end; j++) {
                out.append(source.charAt(j) == '\n' ? '\n' : ' ');
            }
            i = end;
        }
        return out.toString();
    }
}
