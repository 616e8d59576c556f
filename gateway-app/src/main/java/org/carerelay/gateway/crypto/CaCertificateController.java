package org.carerelay.gateway.crypto;

import org.carerelay.routes.crypto.Pkcs12GatewayKeys;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Publishes the gateway's CA and signing certificates (PEM, no token needed), against which
 * recipients verify the signatures on attachments: {@code openssl cms -verify -CAfile ca.pem}.
 */
@RestController
public class CaCertificateController {

    static final MediaType PEM = MediaType.parseMediaType("application/x-pem-file");
    private final Pkcs12GatewayKeys keys;

    public CaCertificateController(Pkcs12GatewayKeys keys) {
        this.keys = keys;
    }

    @GetMapping("/.well-known/carerelay/ca.pem")
    public ResponseEntity<String> caPem() {
        return ResponseEntity.ok().contentType(PEM).cacheControl(CacheControl.noCache()).body(keys.publicPem());
    }
}
