/**
 * Server wiring, the top layer: the HAPI FHIR RestfulServer with its providers, interceptors and
 * servlet filters. It may depend on every feature package; no feature package depends on it.
 */
package org.carerelay.gateway.server;
