/**
 * CareRelay's canonical model: FHIR R4 (HAPI structures), the error catalogue, identifier systems,
 * and pure functions that map HL7v2 to FHIR and back. This module must not depend on Camel or
 * Spring (an architecture test checks it), so every rule here is reachable from plain unit tests.
 */
package org.carerelay.fhir;
