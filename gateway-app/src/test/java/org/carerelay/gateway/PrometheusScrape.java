package org.carerelay.gateway;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** One scrape of {@code /actuator/prometheus} in the text exposition format, parsed into series. */
public final class PrometheusScrape {

    public record Series(String name, Map<String, String> labels, double value) {
    }

    public final String text;
    final List<Series> series = new ArrayList<>();

    public PrometheusScrape(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name;
            Map<String, String> labels = new LinkedHashMap<>();
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                parseLabels(line.substring(brace + 1, line.lastIndexOf('}')), labels);
            } else {
                name = line.substring(0, line.indexOf(' '));
            }
            series.add(new Series(name, labels, Double.parseDouble(line.substring(space + 1).trim())));
        }
    }

    private static void parseLabels(String text, Map<String, String> labels) {
        int i = 0;
        while (i < text.length()) {
            int eq = text.indexOf('=', i);
            String key = text.substring(i, eq).trim();
            StringBuilder value = new StringBuilder();
            int j = eq + 2; // after ="
            while (text.charAt(j) != '"') {
                if (text.charAt(j) == '\\') {
                    j++;
                }
                value.append(text.charAt(j++));
            }
            labels.put(key, value.toString());
            i = j + 1;
            if (i < text.length() && text.charAt(i) == ',') {
                i++;
            }
        }
    }

    public Set<String> names() {
        Set<String> names = new TreeSet<>();
        series.forEach(s -> names.add(s.name()));
        return names;
    }

    /** The sum over all series of {@code name} whose labels include {@code labels} (key, value, ...); 0 if none. */
    public double value(String name, String... labels) {
        return matching(name, labels).stream().mapToDouble(Series::value).sum();
    }

    public List<Series> matching(String name, String... labels) {
        return series.stream().filter(s -> s.name().equals(name)).filter(s -> {
            for (int i = 0; i < labels.length; i += 2) {
                if (!labels[i + 1].equals(s.labels().get(labels[i]))) {
                    return false;
                }
            }
            return true;
        }).toList();
    }
}
