/**
 * The HTTP response headers a measurement records
 * (`HttpRequest.response_headers`), in this order: what identifies a server,
 * a cache, a middlebox or a redirect. Others (cookies...) are noise or
 * identifying. The probe keeps these (netx/http.ts) and the OONI importer
 * keeps the same ones, so imported and native measurements compare.
 */
export const KEPT_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'server', 'location', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'via',
  'x-cache', 'x-served-by', 'x-powered-by', 'cache-control', 'refresh', 'connection',
  // A CDN's challenge (shared/data/challenges/): the page differs for a reason that is not censorship.
  'cf-mitigated', 'cf-ray', 'x-amzn-waf-action',
]);
