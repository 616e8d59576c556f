/**
 * The organisation directory's file format: {@link org.carerelay.fhir.directory.DirectoryCsv} turns
 * a directory CSV file into FHIR Organization and Endpoint resources, all or nothing.
 */
package org.carerelay.fhir.directory;
