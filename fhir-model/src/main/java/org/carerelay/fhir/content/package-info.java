/**
 * Content checks for uploaded documents: {@link org.carerelay.fhir.content.ContentTypes} detects
 * the real type of bytes by their magic numbers and checks it against a declared content type.
 */
package org.carerelay.fhir.content;
