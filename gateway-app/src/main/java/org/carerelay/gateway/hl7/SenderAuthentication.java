package org.carerelay.gateway.hl7;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.directory.AddressAllowList;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.mllp.MllpConnection;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.springframework.stereotype.Component;

/**
 * Whether the connection a frame came in on is authenticated as the organisation MSH-4 (else
 * MSH-3) names. On the TLS listener the client certificate must belong to that organisation
 * ({@link Facilities#findByCertificateSubject}). On the plain listener the peer's address must be
 * on that organisation's HL7 allow-list ({@link Systems#EXT_HL7_ALLOWED_ADDRESS}, kept by the
 * operator in the directory); with {@code carerelay.hl7.trust-loopback=true} (the embedded
 * default only, whose listener is bound to loopback) a loopback peer is trusted as any
 * organisation. Anything else is refused.
 */
@Component
public class SenderAuthentication {

    /** Why a frame is refused: the error for the ACK, its text, and the reason for the audit trail. */
    public record Refusal(ErrorCode error, String text, String auditReason) {
    }

    private final Facilities facilities;
    private final boolean trustLoopback;

    public SenderAuthentication(Facilities facilities, CareRelayProperties props) {
        this.facilities = facilities;
        this.trustLoopback = props.hl7().trustLoopback();
        requireLoopbackListener(trustLoopback, props.hl7().enabled(), props.hl7().host());
    }

    /**
     * Trusting loopback peers is safe only while the plain listener is bound to loopback: bound to
     * a public address, a local forwarder (stunnel, an SSH tunnel, a sidecar proxy) would turn
     * every remote peer into a trusted one. Such a configuration does not start.
     */
    static void requireLoopbackListener(boolean trustLoopback, boolean listenerEnabled, String host) {
        if (!trustLoopback || !listenerEnabled) {
            return;
        }
        boolean loopback;
        try {
            InetAddress[] addresses = InetAddress.getAllByName(host == null ? "" : host.trim());
            loopback = host != null && !host.isBlank() && Arrays.stream(addresses).allMatch(InetAddress::isLoopbackAddress);
        } catch (UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            throw new IllegalStateException("carerelay.hl7.trust-loopback=true (CARERELAY_HL7_TRUST_LOOPBACK) needs the plain "
                    + "MLLP listener bound to loopback, but carerelay.hl7.host (CARERELAY_HL7_HOST) is '" + host
                    + "': bind it to 127.0.0.1, or set trust-loopback to false and allow-list the senders' addresses.");
        }
    }

    /** Empty when the connection is authenticated as {@code sender}. */
    public Optional<Refusal> check(Organization sender, MllpConnection connection) {
        if (connection.tls()) {
            String senderOrg = sender.getIdElement().getIdPart();
            Optional<String> certificateOrg = facilities.findByCertificateSubject(connection.clientCertificateSubject())
                    .map(org -> org.getIdElement().getIdPart());
            if (certificateOrg.equals(Optional.of(senderOrg))) {
                return Optional.empty();
            }
            return Optional.of(new Refusal(ErrorCode.UNKNOWN_SENDER,
                    "The client certificate does not belong to the sending organisation",
                    "client certificate does not belong to the sending organisation"));
        }
        return plainRefusal(sender, connection.remoteAddress(), trustLoopback);
    }

    /** The rule of the plain listener: the peer address must be on the sender's allow-list. */
    static Optional<Refusal> plainRefusal(Organization sender, String remoteAddress, boolean trustLoopback) {
        Optional<InetAddress> peer = AddressAllowList.peerAddress(remoteAddress);
        if (peer.isPresent() && trustLoopback && peer.get().isLoopbackAddress()) {
            return Optional.empty();
        }
        if (peer.isPresent() && allowList(sender).allows(peer.get())) {
            return Optional.empty();
        }
        return Optional.of(new Refusal(ErrorCode.SENDER_NOT_AUTHENTICATED,
                "The connection's address is not on the HL7 allow-list of the sending organisation; "
                        + "use the TLS listener with a client certificate or ask the operator to add the address",
                "peer address not on the sending organisation's HL7 allow-list"));
    }

    /** The organisation's allow-list; entries that do not parse (never stored by the API) count for nothing. */
    static AddressAllowList allowList(Organization org) {
        List<String> entries = org.getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS).stream()
                .map(e -> e.getValue() instanceof PrimitiveType<?> p ? p.getValueAsString() : null)
                .filter(v -> v != null && !v.isBlank())
                .filter(SenderAuthentication::parses)
                .toList();
        return AddressAllowList.of(entries);
    }

    private static boolean parses(String entry) {
        try {
            AddressAllowList.parseRange(entry);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
