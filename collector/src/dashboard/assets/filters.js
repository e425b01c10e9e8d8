// The view's state lives in the page's query string, under the API's own
// parameter names, so a permalink is the view and every API or export link
// is the same filters: domain, probe_asn, probe_cc, category_code, since,
// until (the API's filters), grain, time_zone, and lang: the language, when
// the URL names one (kept in permalinks; docs/dashboard.md).

/**
 * @typedef {'5m' | '1h' | '1d'} Grain
 * @typedef {{domain: string[], probe_asn: string[], probe_cc: string[], category_code: string[],
 *   since: string, until: string, grain: Grain, time_zone: string, lang: string}} Filters
 */

/** List filters: comma-separated in the URL and in the form. */
export const LIST_FILTERS = /** @type {const} */ (['domain', 'probe_asn', 'probe_cc', 'category_code']);
/** Filters the export endpoints take (their other parameters are refused by name). */
const EXPORT_FILTERS = /** @type {const} */ (['domain', 'probe_asn', 'probe_cc', 'category_code']);
/** @type {readonly Grain[]} */
export const GRAINS = ['5m', '1h', '1d'];

/**
 * @param {URLSearchParams} params
 * @param {string} name
 * @returns {string[]}
 */
function listOf(params, name) {
  return params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * Read the filters of a query string.
 * @param {string} search
 * @param {string} defaultTimeZone
 * @returns {Filters}
 */
export function filtersFromSearch(search, defaultTimeZone) {
  const params = new URLSearchParams(search);
  const grain = params.get('grain') ?? '1h';
  return {
    domain: listOf(params, 'domain'),
    probe_asn: listOf(params, 'probe_asn'),
    probe_cc: listOf(params, 'probe_cc'),
    category_code: listOf(params, 'category_code'),
    since: (params.get('since') ?? '').trim(),
    until: (params.get('until') ?? '').trim(),
    // An unknown grain is passed on as it is: the API names it in its 400.
    grain: /** @type {Grain} */ (grain),
    time_zone: (params.get('time_zone') ?? '').trim() || defaultTimeZone,
    lang: (params.get('lang') ?? '').trim(),
  };
}

/**
 * Read the filters of the form.
 * @param {HTMLFormElement} form
 * @param {string} defaultTimeZone
 * @returns {Filters}
 */
export function filtersFromForm(form, defaultTimeZone) {
  const data = new FormData(form);
  /** @type {URLSearchParams} */
  const params = new URLSearchParams();
  for (const [name, value] of data) if (typeof value === 'string') params.append(name, value);
  return filtersFromSearch(params.toString(), defaultTimeZone);
}

/**
 * Put filters into the form.
 * @param {HTMLFormElement} form
 * @param {Filters} f
 */
export function fillForm(form, f) {
  /** @param {string} name @param {string} value */
  const set = (name, value) => {
    const el = form.elements.namedItem(name);
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement) el.value = value;
  };
  for (const name of LIST_FILTERS) set(name, f[name].join(', '));
  set('since', f.since);
  set('until', f.until);
  set('grain', f.grain);
  set('time_zone', f.time_zone);
}

/**
 * @param {URLSearchParams} params
 * @param {Filters} f
 * @param {readonly ('domain' | 'probe_asn' | 'probe_cc' | 'category_code')[]} names
 */
function appendLists(params, f, names) {
  for (const name of names) if (f[name].length > 0) params.set(name, f[name].join(','));
}

/**
 * The page's own query string (the permalink).
 * @param {Filters} f
 * @param {{since?: string, until?: string}} [range] a resolved range, to pin the view in time
 */
export function pageQuery(f, range = {}) {
  const params = new URLSearchParams();
  appendLists(params, f, LIST_FILTERS);
  const since = range.since ?? f.since;
  const until = range.until ?? f.until;
  if (since !== '') params.set('since', since);
  if (until !== '') params.set('until', until);
  params.set('grain', f.grain);
  params.set('time_zone', f.time_zone);
  if (f.lang !== '') params.set('lang', f.lang);
  return params.toString();
}

/**
 * GET /api/v1/timeline: one strip per (domain, ASN).
 * @param {Filters} f
 */
export function timelineQuery(f) {
  const params = new URLSearchParams();
  appendLists(params, f, LIST_FILTERS);
  if (f.since !== '') params.set('since', f.since);
  if (f.until !== '') params.set('until', f.until);
  params.set('grain', f.grain);
  params.set('split', 'domain_asn');
  return params.toString();
}

/**
 * GET /api/v1/episodes over the range the timeline resolved (episodes are
 * found on 5-minute or hourly buckets; a daily chart uses hourly episodes).
 * @param {Filters} f
 * @param {{since: string, until: string}} range
 */
export function episodesQuery(f, range) {
  const params = new URLSearchParams();
  appendLists(params, f, LIST_FILTERS);
  params.set('since', range.since);
  params.set('until', range.until);
  params.set('grain', f.grain === '5m' ? '5m' : '1h');
  params.set('time_zone', f.time_zone);
  return params.toString();
}

/**
 * The export endpoints' filters for the resolved range: the measurements
 * behind every cell of the chart.
 * @param {Filters} f
 * @param {{since: string, until: string}} range
 */
export function exportQuery(f, range) {
  const params = new URLSearchParams();
  appendLists(params, f, EXPORT_FILTERS);
  params.set('since', range.since);
  params.set('until', range.until);
  return params.toString();
}

/**
 * GET /api/v1/timeline.svg: the chart as drawn here, labelled in `lang`.
 * @param {Filters} f
 * @param {{since: string, until: string}} range
 * @param {string} lang the page's language
 */
export function svgQuery(f, range, lang) {
  const params = new URLSearchParams();
  appendLists(params, f, LIST_FILTERS);
  params.set('since', range.since);
  params.set('until', range.until);
  params.set('grain', f.grain);
  params.set('time_zone', f.time_zone);
  params.set('lang', lang);
  return params.toString();
}

/**
 * The export query of an episode's evidence: the query of its evidence_url
 * (the measurements API), which the export endpoints take as it is; null
 * when it uses a filter the exports do not have (a shutdown's failure=true).
 * @param {string} evidenceUrl
 * @returns {string | null}
 */
export function evidenceExportQuery(evidenceUrl) {
  const url = new URL(evidenceUrl, 'http://collector.invalid');
  const allowed = new Set(['since', 'until', 'probe_asn', 'probe_cc', 'domain', 'anomaly', 'confirmed', 'verdict', 'category_code']);
  for (const name of url.searchParams.keys()) if (!allowed.has(name)) return null;
  return url.searchParams.toString();
}
