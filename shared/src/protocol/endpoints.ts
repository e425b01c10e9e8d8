/**
 * Paths and header names of the probe ↔ collector protocol, once for both
 * sides (docs/cli.md and docs/api/openapi.yaml document them).
 */

/** The WebSocket ingest endpoint, below a collector's base URL. */
export const INGEST_PATH = '/api/v1/ingest';

/** The control vantage endpoint (POST a ControlRequest), below a collector's base URL. */
export const CONTROL_PATH = '/api/v1/control';

/**
 * Response header in which the control echoes the caller's own address to
 * it, so a probe can scrub its public address from what it writes. The
 * collector never stores or logs it.
 */
export const CLIENT_ADDRESS_HEADER = 'x-steppe-client-address';

/** Response header of the control: "hit" when the answer came from its short cache, else "miss". */
export const CONTROL_CACHE_HEADER = 'x-steppe-cache';

/**
 * The URL of an endpoint below a collector's base URL, its base path kept:
 * (`https://example.org/steppe/`, CONTROL_PATH) → `https://example.org/steppe/api/v1/control`.
 */
export function endpointUrl(baseUrl: string | URL, path: string): URL {
  const base = new URL(baseUrl);
  return new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base);
}
