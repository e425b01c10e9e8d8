import type { steppe } from '@steppe/proto';
import { KEPT_RESPONSE_HEADERS } from '@steppe/shared';

type HttpRequestProps = steppe.v1.HttpRequest.$Properties;
type ControlProps = steppe.v1.ControlMeasurement.$Properties;
type DnsQueryProps = steppe.v1.DnsQuery.$Properties;

/**
 * The web_connectivity comparison keys (ooni/spec ts-017 "Control
 * comparison") computed from Steppe's observations and control, so the OONI
 * export carries them with OONI's meaning: null where OONI leaves them null
 * (no final response, or no control to compare with).
 */
export interface OoniComparison {
  readonly dns_consistency: 'consistent' | 'inconsistent' | null;
  readonly body_proportion: number | null;
  readonly body_length_match: boolean | null;
  readonly status_code_match: boolean | null;
  readonly headers_match: boolean | null;
  readonly title_match: boolean | null;
}

// Body-length ratio above which OONI calls two bodies a match (ts-017).
const BODY_PROPORTION_THRESHOLD = 0.7;

// Header names too common to tell two servers apart; OONI compares only the
// others. Restricted to what both sides can report.
const COMMON_HEADERS: ReadonlySet<string> = new Set([
  'date', 'content-type', 'server', 'cache-control', 'vary', 'set-cookie', 'location', 'expires', 'x-powered-by',
  'content-encoding', 'last-modified', 'accept-ranges', 'pragma', 'x-frame-options', 'etag',
  'x-content-type-options', 'age', 'via', 'p3p', 'x-xss-protection', 'content-language', 'cf-ray',
  'strict-transport-security', 'link', 'x-varnish', 'content-length', 'connection', 'transfer-encoding',
]);

// Titles are compared by their words of at least this many characters.
const TITLE_WORD_MIN = 5;

/** The final response of a redirect chain: the last request made. */
export function finalRequest(requests: readonly HttpRequestProps[]): HttpRequestProps | undefined {
  return requests[requests.length - 1];
}

/** Compute the OONI comparison keys. */
export function compareWithControl(
  observations: { readonly dnsQueries?: readonly DnsQueryProps[] | null; readonly httpRequests?: readonly HttpRequestProps[] | null } | null | undefined,
  control: ControlProps | null | undefined,
  dnsConsistencyHint: string,
): OoniComparison {
  const final = finalRequest(observations?.httpRequests ?? []);
  const http = control?.http;
  const controlOk = control != null && (control.failure ?? '') === '' && http != null && (http.failure ?? '') === '' && (http.statusCode ?? 0) > 0;
  const probeOk = final !== undefined && (final.failure ?? '') === '' && (final.statusCode ?? 0) > 0;
  const dns = dnsConsistency(observations?.dnsQueries ?? [], control, dnsConsistencyHint);
  if (!controlOk || !probeOk || http == null || final === undefined) {
    return { dns_consistency: dns, body_proportion: null, body_length_match: null, status_code_match: null, headers_match: null, title_match: null };
  }
  const probeLength = final.bodyLength ?? 0;
  const controlLength = http.bodyLength ?? 0;
  const proportion = probeLength === 0 && controlLength === 0 ? 1 : Math.min(probeLength, controlLength) / Math.max(probeLength, controlLength);
  return {
    dns_consistency: dns,
    body_proportion: Math.round(proportion * 1e6) / 1e6,
    body_length_match: proportion > BODY_PROPORTION_THRESHOLD,
    status_code_match: (final.statusCode ?? 0) === (http.statusCode ?? 0),
    headers_match: headersMatch((final.responseHeaders ?? []).map((h) => h.name ?? ''), http.headerNames ?? []),
    title_match: titleMatch(final.title ?? '', http.title ?? ''),
  };
}

function headersMatch(probeNames: readonly string[], controlNames: readonly string[]): boolean {
  const probe = new Set(probeNames.map((n) => n.toLowerCase()));
  // Compare like with like: the probe keeps a fixed subset of headers.
  const uncommonProbe = [...probe].filter((n) => !COMMON_HEADERS.has(n));
  const uncommonControl = controlNames.map((n) => n.toLowerCase()).filter((n) => !COMMON_HEADERS.has(n) && (probe.has(n) || isKeptByProbe(n)));
  if (uncommonProbe.length === 0 && uncommonControl.length === 0) return true;
  return uncommonControl.some((n) => probe.has(n));
}

// The uncommon headers the probe keeps (shared netx KEPT_RESPONSE_HEADERS).
const PROBE_KEPT_UNCOMMON: ReadonlySet<string> = new Set([...KEPT_RESPONSE_HEADERS].filter((h) => !COMMON_HEADERS.has(h)));

function isKeptByProbe(name: string): boolean {
  return PROBE_KEPT_UNCOMMON.has(name);
}

function titleMatch(probeTitle: string, controlTitle: string): boolean | null {
  const words = controlTitle.toLowerCase().split(/\s+/).filter((w) => w.length >= TITLE_WORD_MIN);
  if (words.length === 0) return null;
  const probeWords = new Set(probeTitle.toLowerCase().split(/\s+/));
  return words.some((w) => probeWords.has(w));
}

/**
 * DNS consistency: the verdict engine's finding when it made one; otherwise
 * OONI's rule of thumb: the same addresses, or addresses in the same
 * (known) ASNs, or the same failure on both sides, is consistent.
 */
function dnsConsistency(queries: readonly DnsQueryProps[], control: ControlProps | null | undefined, hint: string): 'consistent' | 'inconsistent' | null {
  if (hint === 'consistent' || hint === 'inconsistent') return hint;
  const cdns = control?.dns;
  if (control == null || cdns == null || queries.length === 0) return null;
  const probeIps = new Set<string>();
  for (const q of queries) {
    for (const a of q.responses?.[0]?.answers ?? []) {
      if (a.answerType === 'A' || a.answerType === 'AAAA') probeIps.add(a.value ?? '');
    }
  }
  const probeFailed = probeIps.size === 0;
  const controlFailed = (cdns.failure ?? '') !== '' || (cdns.addresses ?? []).length === 0;
  if (probeFailed && controlFailed) return 'consistent';
  if (probeFailed !== controlFailed) return 'inconsistent';
  const controlIps = new Set((cdns.addresses ?? []).map((a) => a.ip ?? ''));
  if ([...probeIps].some((ip) => controlIps.has(ip))) return 'consistent';
  const controlAsns = new Set((cdns.addresses ?? []).map((a) => a.asn ?? 0).filter((asn) => asn > 0));
  const probeAsns = (control.probeAddresses ?? []).filter((a) => probeIps.has(a.ip ?? '')).map((a) => a.asn ?? 0);
  return probeAsns.some((asn) => asn > 0 && controlAsns.has(asn)) ? 'consistent' : 'inconsistent';
}
