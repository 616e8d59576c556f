/**
 * Shared kernel: small types that feature packages exchange without depending on each other
 * (events published by one feature and handled by another).
 */
package org.carerelay.gateway.kernel;
