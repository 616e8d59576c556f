package org.carerelay.fhir.directory;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Source addresses an organisation's HL7v2 systems connect from: single IPv4/IPv6 addresses and
 * CIDR ranges ({@code 192.0.2.10}, {@code 192.0.2.0/24}, {@code 2001:db8::/32}). Only literal
 * addresses are accepted — a host name would make the rule depend on DNS at the moment a frame
 * arrives. An IPv4-mapped IPv6 peer ({@code ::ffff:192.0.2.10}) matches the IPv4 entry.
 */
public final class AddressAllowList {

    /** Digits, hex letters, dots and colons only: nothing {@link InetAddress#getByName} would look up in DNS. */
    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f.:]{2,45}");

    /** One entry: a network address and the number of leading bits that must match. */
    public record Range(InetAddress network, int prefixLength) {

        public boolean contains(InetAddress address) {
            byte[] net = network.getAddress();
            byte[] candidate = address.getAddress();
            if (net.length != candidate.length) {
                return false;
            }
            int full = prefixLength / 8;
            for (int i = 0; i < full; i++) {
                if (net[i] != candidate[i]) {
                    return false;
                }
            }
            int rest = prefixLength % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (net[full] & mask) == (candidate[full] & mask);
        }

        /** The entry as written back: the address, and {@code /n} unless it is a single address. */
        @Override
        public String toString() {
            int bits = network.getAddress().length * 8;
            return network.getHostAddress() + (prefixLength == bits ? "" : "/" + prefixLength);
        }
    }

    private final List<Range> ranges;

    private AddressAllowList(List<Range> ranges) {
        this.ranges = List.copyOf(ranges);
    }

    /**
     * Parses the entries.
     *
     * @throws IllegalArgumentException naming the first entry that is not an address or CIDR range
     */
    public static AddressAllowList of(Collection<String> entries) {
        List<Range> ranges = new ArrayList<>();
        for (String entry : entries) {
            ranges.add(parseRange(entry));
        }
        return new AddressAllowList(ranges);
    }

    /**
     * One entry: an IPv4 or IPv6 address, optionally with {@code /prefix} (0–32 or 0–128). Host bits
     * beyond the prefix must be zero, so a typo such as {@code 10.1.2.3/8} is not silently widened.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static Range parseRange(String entry) {
        if (entry == null || entry.isBlank()) {
            throw new IllegalArgumentException("an empty entry is not an address");
        }
        String text = entry.strip();
        String shown = text.length() > 60 ? text.substring(0, 60) + "…" : text;
        int slash = text.indexOf('/');
        String addressText = slash < 0 ? text : text.substring(0, slash);
        InetAddress address = literal(addressText)
                .orElseThrow(() -> new IllegalArgumentException("'" + shown + "' is not an IPv4 or IPv6 address or CIDR range"));
        int bits = address.getAddress().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String prefixText = text.substring(slash + 1);
            if (!prefixText.matches("\\d{1,3}") || Integer.parseInt(prefixText) > bits) {
                throw new IllegalArgumentException("'" + shown + "': the prefix length must be 0 to " + bits);
            }
            prefix = Integer.parseInt(prefixText);
        }
        Range range = new Range(address, prefix);
        if (!range.toString().equals(new Range(mask(address, prefix), prefix).toString())) {
            throw new IllegalArgumentException("'" + shown + "' has host bits set beyond /" + prefix + "; did you mean "
                    + new Range(mask(address, prefix), prefix) + "?");
        }
        return range;
    }

    /** Whether the address lies in one of the ranges. */
    public boolean allows(InetAddress address) {
        if (address == null) {
            return false;
        }
        InetAddress peer = unmapped(address);
        return ranges.stream().anyMatch(r -> r.contains(peer));
    }

    public List<Range> ranges() {
        return ranges;
    }

    public boolean isEmpty() {
        return ranges.isEmpty();
    }

    /**
     * The IP address in a socket address as Java prints it ({@code /192.0.2.10:51234},
     * {@code host/192.0.2.10:51234}, {@code /[0:0:0:0:0:0:0:1]:51234}, {@code /fe80:0:0:0:0:0:0:1%eth0:51234}).
     * Empty when there is none.
     */
    public static Optional<InetAddress> peerAddress(String socketAddress) {
        if (socketAddress == null || socketAddress.isBlank()) {
            return Optional.empty();
        }
        String text = socketAddress.strip();
        int slash = text.lastIndexOf('/');
        if (slash >= 0) {
            text = text.substring(slash + 1);
        }
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                return Optional.empty();
            }
            text = text.substring(1, close);
        } else if (text.chars().filter(c -> c == ':').count() == 1) {
            text = text.substring(0, text.indexOf(':')); // IPv4 with port
        } else if (text.matches(".*%[^:]+:\\d+")) {
            text = text.substring(0, text.lastIndexOf(':')); // IPv6 with scope and port, unbracketed
        }
        int scope = text.indexOf('%');
        if (scope >= 0) {
            text = text.substring(0, scope);
        }
        return literal(text).map(AddressAllowList::unmapped);
    }

    private static Optional<InetAddress> literal(String text) {
        if (!LITERAL.matcher(text).matches() || !(text.contains(".") || text.contains(":"))) {
            return Optional.empty();
        }
        if (!text.contains(":") && !text.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return Optional.empty(); // "10.1" or "1.2.3.4.5": getByName would accept some of these forms
        }
        try {
            return Optional.of(InetAddress.getByName(text));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /** {@code ::ffff:a.b.c.d} as the IPv4 address it stands for. */
    private static InetAddress unmapped(InetAddress address) {
        if (address instanceof Inet6Address) {
            byte[] b = address.getAddress();
            boolean mapped = true;
            for (int i = 0; i < 10; i++) {
                mapped &= b[i] == 0;
            }
            mapped &= b[10] == (byte) 0xff && b[11] == (byte) 0xff;
            if (mapped) {
                try {
                    return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
                } catch (UnknownHostException e) {
                    return address;
                }
            }
        }
        return address;
    }

    private static InetAddress mask(InetAddress address, int prefix) {
        byte[] b = address.getAddress().clone();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            b[i] = (byte) (b[i] & ((0xff << (8 - keep)) & 0xff));
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
