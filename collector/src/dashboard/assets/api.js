// The page reads only the collector's public API (docs/api/openapi.yaml), the
// same answers a researcher downloads: nothing here has a private endpoint.

/**
 * @typedef {'no_data' | 'accessible' | 'anomaly' | 'confirmed'} BucketState
 * @typedef {{start: string, end: string, state: BucketState, measurements: number, anomalies: number, confirmed: number,
 *   anomaly_share: number | null, confirmed_share: number | null, verdicts: Record<string, number>}} ApiBucket
 * @typedef {{domain: string | null, probe_asn: number | null, buckets: ApiBucket[]}} ApiSeries
 * @typedef {{since: string, until: string, grain: string, split: string, series: ApiSeries[]}} ApiTimeline
 * @typedef {{id: string, kind: 'blocking' | 'shutdown', domain: string | null, probe_asn: number, onset: string, end: string,
 *   onset_local?: string, end_local?: string, time_zone?: string, ongoing: boolean, grain: string, blocking_types: string[],
 *   probes: number, measurements: number, anomalies: number, confirmed: number, gap_buckets: number, single_probe: boolean,
 *   confidence: number, evidence: string[], evidence_url: string}} ApiEpisode
 * @typedef {{id: number, name: string, start: string, end: string | null, start_local: string, end_local: string | null,
 *   time_zone: string, description: string, source_url: string | null}} ApiEvent
 * @typedef {{probe_asn: number, probe_cc: string, probe_network_name: string, probes: number, active_probes: number}} ApiProbeCount
 */

/** An error answer of the API; its message names the bad parameter. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * GET a JSON document from the collector.
 * @param {string} url
 * @param {AbortSignal} signal
 * @returns {Promise<unknown>}
 */
export async function getJson(url, signal) {
  const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : undefined;
  if (!res.ok) {
    const message = typeof body === 'object' && body !== null && 'error' in body
      ? String(/** @type {{error: {message?: unknown}}} */ (body).error.message ?? res.statusText)
      : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message);
  }
  return body;
}

/**
 * @param {string} query
 * @param {AbortSignal} signal
 * @returns {Promise<ApiTimeline>}
 */
export async function fetchTimeline(query, signal) {
  return /** @type {ApiTimeline} */ (await getJson(`/api/v1/timeline?${query}`, signal));
}

/**
 * @param {string} query
 * @param {AbortSignal} signal
 * @returns {Promise<ApiEpisode[]>}
 */
export async function fetchEpisodes(query, signal) {
  return /** @type {{results: ApiEpisode[]}} */ (await getJson(`/api/v1/episodes?${query}`, signal)).results;
}

/**
 * @param {AbortSignal} signal
 * @returns {Promise<ApiEvent[]>}
 */
export async function fetchEvents(signal) {
  return /** @type {{results: ApiEvent[]}} */ (await getJson('/api/v1/events', signal)).results;
}

/**
 * AS number → operator name, from the per-network probe counts.
 * @param {AbortSignal} signal
 * @returns {Promise<Map<number, string>>}
 */
export async function fetchNetworkNames(signal) {
  const body = /** @type {{results: ApiProbeCount[]}} */ (await getJson('/api/v1/probes', signal));
  /** @type {Map<number, string>} */
  const names = new Map();
  for (const c of body.results) if (c.probe_network_name !== '' && !names.has(c.probe_asn)) names.set(c.probe_asn, c.probe_network_name);
  return names;
}
