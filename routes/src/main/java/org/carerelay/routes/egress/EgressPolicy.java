package org.carerelay.routes.egress;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.carerelay.fhir.directory.AddressAllowList;

/**
 * Where the gateway may connect on behalf of a participant (its FHIR and MLLP endpoints). A
 * participant chooses the address of its own endpoint, so without this policy a delivery could be
 * aimed at the gateway's own ports, its database, a cloud metadata service or anything else on the
 * internal network (server-side request forgery).
 *
 * <p>Refused unless the operator's allow-list names them: loopback, link-local (incl.
 * {@code 169.254.169.254}), multicast, the unspecified address ({@code 0.0.0.0}, {@code ::}),
 * {@code 0.0.0.0/8}, private ranges (RFC 1918, {@code fc00::/7}, site-local), carrier-grade NAT
 * {@code 100.64.0.0/10}, {@code 240.0.0.0/4} and this host's own interface addresses; IPv6 forms
 * that embed an IPv4 address (NAT64 {@code 64:ff9b::/96}, IPv4-compatible) are judged by that
 * address; Teredo ({@code 2001::/32}) and local-use NAT64 ({@code 64:ff9b:1::/48}) are refused.
 * The gateway's own listener ports on a local address are refused even when a CIDR entry allows the
 * address (e.g. loopback): only an explicit {@code host:port} entry opens one.
 *
 * <p>Allow-list entries: a CIDR ({@code 10.20.0.0/16}, {@code fd00::/8}), a single address
 * ({@code 10.20.30.40}, {@code ::1}), or {@code host:port} / {@code [v6]:port} (the host as written
 * in the endpoint address, or an IP address). Names in the list are never resolved.
 *
 * <p>Use: {@link #resolve} once per connection (every address the name resolves to must pass,
 * else the destination is refused), connect only to the addresses it returned, and call
 * {@link #check} with the address right before connecting. Plain JDK, no Spring.
 */
public final class EgressPolicy {

    /** A destination the policy refuses; never worth retrying. The message names the reason. */
    public static final class EgressRefusedException extends IOException {
        public EgressRefusedException(String message) {
            super(message);
        }
    }

    /** Name resolution, replaceable in tests. */
    @FunctionalInterface
    public interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private record HostPort(String host, int port) {
    }

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%\\w+)?");
    private static final Pattern BRACKETED = Pattern.compile("\\[([^\\]]+)](?::(\\d{1,5}))?");
    private static final Pattern HOST_PORT = Pattern.compile("([^:\\s\\[\\]/]+):(\\d{1,5})");

    private final List<AddressAllowList.Range> allowedRanges = new ArrayList<>();
    private final List<HostPort> allowedHostPorts = new ArrayList<>();
    private final Supplier<? extends Collection<Integer>> ownPorts;
    private final Supplier<? extends Collection<InetAddress>> ownAddresses;
    private final Resolver resolver;

    /**
     * The policy as the gateway runs it: names resolved by the JDK, this host's interface
     * addresses read from the network interfaces.
     *
     * @param allowed  the operator's allow-list (entries as described above)
     * @param ownPorts the gateway's listener ports (HTTP, MLLP, MLLP/TLS, database on this host …),
     *                 asked at every check, so ports known only after start can be included
     * @throws IllegalArgumentException naming an entry that is not a CIDR, address or host:port
     */
    public EgressPolicy(Collection<String> allowed, Supplier<? extends Collection<Integer>> ownPorts) {
        this(allowed, ownPorts, EgressPolicy::interfaceAddresses, InetAddress::getAllByName);
    }

    public EgressPolicy(Collection<String> allowed, Supplier<? extends Collection<Integer>> ownPorts,
            Supplier<? extends Collection<InetAddress>> ownAddresses, Resolver resolver) {
        for (String entry : allowed == null ? List.<String>of() : allowed) {
            if (entry != null && !entry.isBlank()) {
                parseAllowed(entry.strip());
            }
        }
        this.ownPorts = ownPorts;
        this.ownAddresses = ownAddresses;
        this.resolver = resolver;
    }

    /**
     * Resolves {@code host} once and checks every address it resolves to.
     *
     * @return the addresses to connect to (in resolver order), each checked
     * @throws EgressRefusedException if any address is refused
     * @throws UnknownHostException   if the name does not resolve
     */
    public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException, EgressRefusedException {
        String name = stripBrackets(host);
        InetAddress[] addresses = resolver.resolve(name);
        if (addresses == null || addresses.length == 0) {
            throw new UnknownHostException(name);
        }
        List<InetSocketAddress> checked = new ArrayList<>();
        for (InetAddress address : addresses) {
            Optional<String> refusal = refusal(name, address, port);
            if (refusal.isPresent()) {
                throw new EgressRefusedException(refusal.get());
            }
            checked.add(new InetSocketAddress(address, port));
        }
        return checked;
    }

    /** The check right before connecting to {@code target}, which must be resolved. */
    public void check(String host, InetSocketAddress target) throws EgressRefusedException {
        if (target.isUnresolved()) {
            throw new EgressRefusedException("egress refused: " + target.getHostString() + " was not resolved and checked");
        }
        Optional<String> refusal = refusal(stripBrackets(host), target.getAddress(), target.getPort());
        if (refusal.isPresent()) {
            throw new EgressRefusedException(refusal.get());
        }
    }

    /**
     * For an endpoint address being saved: the refusal if {@code host} is an IP address literal
     * the policy refuses; empty for names (they are checked when a delivery resolves them).
     */
    public Optional<String> refusalOfLiteral(String host, int port) {
        String name = stripBrackets(host);
        InetAddress literal = literal(name);
        return literal == null ? Optional.empty() : refusal(name, literal, port);
    }

    /** Why the policy refuses {@code address:port} (reached by the name {@code host}); empty if allowed. */
    public Optional<String> refusal(String host, InetAddress address, int port) {
        String where = address.getHostAddress() + " port " + port;
        if (explicitlyAllowed(host, address, port)) {
            return Optional.empty();
        }
        if (isLocal(address) && ownPorts.get().contains(port)) {
            return Optional.of("egress refused: " + where + " is a listener of the gateway itself");
        }
        String kind = restrictedKind(address);
        if (kind == null) {
            return Optional.empty();
        }
        if (allowedRanges.stream().anyMatch(c -> c.contains(address))) {
            return Optional.empty();
        }
        return Optional.of("egress refused: " + where + " is " + kind + " (not in carerelay.egress.allowed)");
    }

    private boolean explicitlyAllowed(String host, InetAddress address, int port) {
        for (HostPort entry : allowedHostPorts) {
            if (entry.port() != port) {
                continue;
            }
            if (host != null && entry.host().equalsIgnoreCase(host)) {
                return true;
            }
            InetAddress literal = literal(entry.host());
            if (literal != null && literal.equals(address)) {
                return true;
            }
        }
        return false;
    }

    private boolean isLocal(InetAddress address) {
        return address.isLoopbackAddress() || address.isAnyLocalAddress() || ownAddresses.get().contains(address);
    }

    /** What kind of restricted address this is, or null for an ordinary (public) one. */
    private String restrictedKind(InetAddress address) {
        InetAddress embedded = embeddedIpv4(address);
        if (embedded != null) {
            String kind = restrictedKind(embedded);
            return kind == null ? null : kind + " (embedded in " + address.getHostAddress() + ")";
        }
        if (address.isAnyLocalAddress()) {
            return "the unspecified address";
        }
        if (address.isLoopbackAddress()) {
            return "loopback";
        }
        if (address.isLinkLocalAddress()) {
            return "link-local";
        }
        if (address.isMulticastAddress()) {
            return "multicast";
        }
        if (address.isSiteLocalAddress()) {
            return "private";
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            if (first == 0) {
                return "in 0.0.0.0/8 (this network)";
            }
            if (first == 100 && (second & 0xc0) == 64) {
                return "carrier-grade NAT (100.64.0.0/10)";
            }
            if (first >= 240) {
                return "reserved (240.0.0.0/4)";
            }
        } else if ((b[0] & 0xfe) == 0xfc) {
            return "private (fc00::/7)";
        } else if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && b[2] == 0 && b[3] == 0) {
            return "Teredo (2001::/32), a tunnel to addresses it hides";
        } else if (b[0] == 0 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b && b[4] == 0 && b[5] == 1) {
            // RFC 8215: where the IPv4 address sits depends on the prefix length the network chose
            return "local-use NAT64 (64:ff9b:1::/48), a translator to IPv4 addresses it hides";
        } else if ((b[0] & 0xff) == 0x01 && Arrays.equals(Arrays.copyOfRange(b, 1, 8), new byte[7])) {
            return "discard-only (100::/64)";
        }
        if (ownAddresses.get().contains(address)) {
            return "an address of the gateway's host";
        }
        return null;
    }

    /**
     * The IPv4 address inside NAT64 ({@code 64:ff9b::/96}), IPv4-compatible ({@code ::a.b.c.d}),
     * IPv4-translated ({@code ::ffff:0:a.b.c.d}) or 6to4 ({@code 2002:aabb:ccdd::/48}) IPv6.
     */
    private static InetAddress embeddedIpv4(InetAddress address) {
        if (!(address instanceof Inet6Address v6)) {
            return null;
        }
        byte[] b = v6.getAddress();
        boolean nat64 = (b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b
                && Arrays.equals(Arrays.copyOfRange(b, 4, 12), new byte[8]);
        boolean compatible = v6.isIPv4CompatibleAddress() && !address.isAnyLocalAddress() && !address.isLoopbackAddress();
        boolean translated = Arrays.equals(Arrays.copyOfRange(b, 0, 8), new byte[8]) && (b[8] & 0xff) == 0xff
                && (b[9] & 0xff) == 0xff && b[10] == 0 && b[11] == 0;
        boolean sixToFour = (b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02;
        if (sixToFour) {
            try {
                return InetAddress.getByAddress(Arrays.copyOfRange(b, 2, 6));
            } catch (UnknownHostException e) {
                return null;
            }
        }
        if (!nat64 && !compatible && !translated) {
            return null;
        }
        try {
            return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private void parseAllowed(String entry) {
        Matcher bracketed = BRACKETED.matcher(entry);
        if (bracketed.matches()) {
            InetAddress address = requireLiteral(bracketed.group(1), entry);
            if (bracketed.group(2) != null) {
                allowedHostPorts.add(new HostPort(address.getHostAddress(), port(bracketed.group(2), entry)));
            } else {
                allowedRanges.add(range(address.getHostAddress()));
            }
            return;
        }
        if (entry.indexOf('/') > 0 || literal(entry) != null) {
            allowedRanges.add(range(entry));
            return;
        }
        Matcher hostPort = HOST_PORT.matcher(entry);
        if (hostPort.matches()) {
            allowedHostPorts.add(new HostPort(hostPort.group(1).toLowerCase(Locale.ROOT), port(hostPort.group(2), entry)));
            return;
        }
        throw new IllegalArgumentException("carerelay.egress.allowed: '" + entry
                + "' is neither a CIDR, an IP address nor host:port");
    }

    /** An address or CIDR range, parsed as the HL7 allow-lists are (host bits beyond the prefix refused). */
    private static AddressAllowList.Range range(String text) {
        try {
            return AddressAllowList.parseRange(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("carerelay.egress.allowed: " + e.getMessage());
        }
    }

    private static int port(String digits, String entry) {
        int port = Integer.parseInt(digits);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("carerelay.egress.allowed: '" + entry + "' has an invalid port");
        }
        return port;
    }

    private static InetAddress requireLiteral(String text, String entry) {
        InetAddress address = literal(text);
        if (address == null) {
            throw new IllegalArgumentException("carerelay.egress.allowed: '" + entry + "' does not hold an IP address");
        }
        return address;
    }

    /** The address if {@code text} is an IPv4 or IPv6 literal; never asks DNS. */
    static InetAddress literal(String text) {
        if (text == null || !(IPV4.matcher(text).matches() || IPV6.matcher(text).matches())) {
            return null;
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static String stripBrackets(String host) {
        return host != null && host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** This host's interface addresses (all interfaces, up or down). */
    public static Set<InetAddress> interfaceAddresses() {
        Set<InetAddress> addresses = new HashSet<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                addresses.addAll(Collections.list(nif.getInetAddresses()));
            }
        } catch (SocketException e) {
            // no interface list: loopback and the ranges above still apply
        }
        return addresses;
    }
}
