import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { steppe } from '@steppe/proto';
import { BODY_PREFIX_BYTES, KEPT_RESPONSE_HEADERS, extractTitle, wire, type MeasurementProps } from '@steppe/shared';
import { fromMaybeBinaryData } from './binary-data.js';
import { parseEndpoint } from './endpoint.js';
import { failureFromOoni, unknownFailure } from './failures.js';
import { asArray, asBoolean, asNumber, asObject, asString, objectsOf, type JsonObject } from './json-value.js';
import { ooniMeasurementId } from './measurement-id.js';
import { parseOoniTime, secondsToMs } from './time.js';

type DnsQueryProps = steppe.v1.DnsQuery.$Properties;
type DnsResponseProps = steppe.v1.DnsResponse.$Properties;
type TcpConnectProps = steppe.v1.TcpConnect.$Properties;
type TlsHandshakeProps = steppe.v1.TlsHandshake.$Properties;
type HttpRequestProps = steppe.v1.HttpRequest.$Properties;
type HttpHeaderProps = steppe.v1.HttpHeader.$Properties;
type NetworkEventProps = steppe.v1.NetworkEvent.$Properties;
type ControlProps = steppe.v1.ControlMeasurement.$Properties;
type ControlAddressProps = steppe.v1.ControlAddress.$Properties;

/**
 * OONI's own analysis of a web_connectivity measurement, as it wrote it:
 * `blocking` is "dns", "tcp_ip", "http-failure", "http-diff", "false" (the
 * JSON `false`) or null; `accessible` is true, false or null.
 */
export interface OoniVerdict {
  readonly blocking: string | null;
  readonly accessible: boolean | null;
}

/** An OONI web_connectivity record turned into a Steppe measurement (without analysis). */
export interface ConvertedOoniMeasurement {
  /** Deterministic UUIDv7-shaped id (see measurement-id.ts). */
  readonly id: Uint8Array;
  /** The Steppe measurement: observations, control, network fields; `analysis` left for the verdict engine. */
  readonly measurement: MeasurementProps & { id: Uint8Array; startTimeMs: number; input: string; domain: string };
  readonly reportId: string;
  /** OONI's derived network fields (never an address: `probe_ip` is not read). */
  readonly network: { readonly asn: number; readonly cc: string; readonly networkName: string };
  readonly ooni: OoniVerdict;
  /** web_connectivity version that produced the record, e.g. "0.4.2". */
  readonly testVersion: string;
}

/** Result of converting one record: the measurement, or why it was skipped. */
export type OoniConversion =
  | { readonly ok: true; readonly value: ConvertedOoniMeasurement }
  | { readonly ok: false; readonly reason: string; /** The reason without line-specific detail, for counting. */ readonly kind: string };

/** web_connectivity versions this converter understands (0.0.x from Measurement Kit up to 0.5.x). */
export const SUPPORTED_TEST_VERSIONS = /^0\.[0-5](?:\.\d+)?(?:[-+].*)?$/;

// TLS failures that are certificate verification results: Steppe records
// them as `verification_error` beside a completed handshake (steppe.proto
// TlsHandshake), where Go's TLS stack reports them as the handshake failure.
const VERIFICATION_FAILURES: ReadonlySet<string> = new Set(['ssl_invalid_hostname', 'ssl_unknown_authority', 'ssl_invalid_certificate']);

const MAX_ANNOTATIONS = 32;
const MAX_ANNOTATION_CHARS = 256;

/**
 * Convert one parsed OONI web_connectivity record (any test version from
 * 0.1 to 0.5; ooni/spec nettests/ts-017-web-connectivity.md and the
 * df-00x data formats) into a Steppe measurement. Pure: no I/O, never
 * throws; a record that cannot be used comes back with the reason.
 *
 * Version differences handled: 0.1.x (ooniprobe-legacy) has no `t0`/`t`,
 * headers as maps and Twisted failure strings; 0.2–0.4 add `t`, headers
 * lists, `dns_experiment_failure` and `x_*` runtime keys; 0.5 adds `t0`,
 * `transaction_id`, TLS `address`, the control's `tls_handshake`/`ip_info`
 * maps and `x_dns_duplicate_responses` (late DNS answers, kept here as extra
 * responses of their query) and asks resolvers besides the system's (marked
 * `third_party_resolver`). `requests` is put in the order the requests were
 * made (chronologicalRequests).
 */
export function convertOoniWebConnectivity(record: unknown): OoniConversion {
  const r = asObject(record);
  if (r === undefined) return skip('not a JSON object', 'the line is not a JSON object');
  const testName = asString(r['test_name']);
  if (testName !== 'web_connectivity') return skip('not web_connectivity', `test_name ${JSON.stringify(testName ?? null)} is not web_connectivity`);
  const testVersion = asString(r['test_version']) ?? '';
  if (!SUPPORTED_TEST_VERSIONS.test(testVersion)) return skip('unsupported test_version', `unsupported web_connectivity test_version ${JSON.stringify(testVersion)}`);
  const startText = asString(r['measurement_start_time']);
  const startMs = startText === undefined ? undefined : parseOoniTime(startText);
  if (startMs === undefined || startMs <= 0) return skip('bad measurement_start_time', `measurement_start_time ${JSON.stringify(startText ?? null)} is not "YYYY-MM-DD HH:MM:SS"`);
  const input = asString(r['input']) ?? '';
  if (input.length === 0 || input.length > 4096) return skip('missing input', 'input is missing or longer than 4096 characters');
  const domain = hostOf(input);
  if (domain === undefined) return skip('input is not a URL', `input ${JSON.stringify(input.slice(0, 80))} is not a URL`);
  const tk = asObject(r['test_keys']);
  if (tk === undefined) return skip('missing test_keys', 'test_keys is missing');

  const reportId = asString(r['report_id']) ?? '';
  const network = {
    asn: parseAsn(r['probe_asn']),
    cc: parseCc(r['probe_cc']),
    networkName: (asString(r['probe_network_name']) ?? '').slice(0, 256),
  };
  const id = ooniMeasurementId(startMs, reportId, input, testName);
  const observations = {
    dnsQueries: dnsQueries(tk, testVersion),
    tcpConnects: tcpConnects(tk),
    tlsHandshakes: [] as TlsHandshakeProps[],
    httpRequests: httpRequests(tk, input, testVersion),
    networkEvents: [] as NetworkEventProps[],
  };
  observations.tlsHandshakes = tlsHandshakes(tk, domain, observations.tcpConnects);
  attachDuplicateResponses(tk, observations.dnsQueries, observations.networkEvents);

  const measurement = {
    id,
    probeId: `ooni:${reportId.length > 0 ? reportId : 'unknown-report'}`,
    testName,
    testVersion,
    softwareName: (asString(r['software_name']) ?? '').slice(0, 64),
    softwareVersion: (asString(r['software_version']) ?? '').slice(0, 64),
    startTimeMs: startMs,
    runtimeMs: Math.max(0, secondsToMs(asNumber(r['test_runtime']) ?? 0)),
    input,
    domain,
    categoryCode: (asString(r['category_code']) ?? '').slice(0, 16),
    probeAsn: network.asn,
    probeCc: network.cc,
    probeNetworkName: network.networkName,
    observations,
    control: control(r, tk, startMs),
    annotations: annotations(r, testVersion),
  };
  return { ok: true, value: { id, measurement, reportId, network, ooni: ooniVerdict(tk), testVersion } };
}

function skip(kind: string, reason: string): OoniConversion {
  return { ok: false, reason, kind };
}

function hostOf(input: string): string | undefined {
  try {
    const url = new URL(input);
    const host = url.hostname.startsWith('[') && url.hostname.endsWith(']') ? url.hostname.slice(1, -1) : url.hostname;
    return host.length > 0 ? host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** "AS9198" (or a bare number) → 9198; 0 when unknown. */
export function parseAsn(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 32) return value;
  const m = /^(?:AS)?(\d{1,10})$/i.exec(asString(value)?.trim() ?? '');
  const n = Number(m?.[1]);
  return m !== null && Number.isSafeInteger(n) && n < 2 ** 32 ? n : 0;
}

function parseCc(value: unknown): string {
  const cc = (asString(value) ?? '').trim().toUpperCase();
  return /^[A-Z]{2}$/.test(cc) ? cc : 'ZZ';
}

function ms(seconds: unknown): number | undefined {
  const s = asNumber(seconds);
  return s === undefined ? undefined : secondsToMs(s);
}

/** Operation start and end in ms; versions before 0.5 only have the end (`t`), 0.1 neither. */
function times(o: JsonObject): { t0Ms: number; t1Ms: number } {
  const t1 = ms(o['t']);
  const t0 = ms(o['t0']) ?? t1 ?? 0;
  return { t0Ms: t0, t1Ms: t1 ?? t0 };
}

function transportOf(engine: string): steppe.v1.DnsTransport {
  switch (engine) {
    case 'udp':
      return wire.DnsTransport.DNS_TRANSPORT_UDP;
    case 'tcp':
      return wire.DnsTransport.DNS_TRANSPORT_TCP;
    case 'doh':
      return wire.DnsTransport.DNS_TRANSPORT_DOH;
    default:
      return wire.DnsTransport.DNS_TRANSPORT_UNSPECIFIED;
  }
}

function resolverOf(q: JsonObject): string {
  const address = asString(q['resolver_address']);
  if (address !== undefined && address.length > 0) return address;
  const host = asString(q['resolver_hostname']);
  if (host !== undefined && host.length > 0) return `${host}:${asString(q['resolver_port']) ?? String(asNumber(q['resolver_port']) ?? 53)}`;
  return '';
}

function answersOf(q: JsonObject): steppe.v1.DnsAnswer.$Properties[] {
  return objectsOf(q['answers']).map((a) => ({
    answerType: asString(a['answer_type']) ?? '',
    value: asString(a['ipv4']) ?? asString(a['ipv6']) ?? asString(a['hostname']) ?? '',
    ttl: Math.max(0, Math.floor(asNumber(a['ttl']) ?? 0)),
  }));
}

/** web_connectivity 0.5 and later ask resolvers besides the system's (ts-017 extensions E003, E004). */
function asksSeveralResolvers(testVersion: string): boolean {
  return !/^0\.[0-4](?:[.\-+]|$)/.test(testVersion);
}

function tagsOf(o: JsonObject): string[] {
  return (asArray(o['tags']) ?? []).flatMap((t) => asString(t) ?? []);
}

/**
 * Whether a query asked a third-party resolver. ts-017: results of the
 * classic algorithm carry the `classic` tag, and for version 0.5 and later
 * only the getaddrinfo lookups are the classic (system) ones; before 0.5
 * every result is the classic algorithm's. Steppe's own exports tag the
 * system resolver's queries `classic`.
 */
function isThirdParty(q: JsonObject, testVersion: string, tagged: boolean): boolean {
  if (tagsOf(q).includes('classic')) return false;
  if (!tagged && !asksSeveralResolvers(testVersion)) return false;
  const engine = asString(q['engine']) ?? '';
  return engine !== 'getaddrinfo' && engine !== 'system';
}

function dnsQueries(tk: JsonObject, testVersion: string): DnsQueryProps[] {
  const queries = objectsOf(tk['queries']);
  const tagged = queries.some((q) => tagsOf(q).includes('classic'));
  return queries.map((q) => {
    const failure = failureFromOoni(q['failure']);
    const answers = answersOf(q);
    const { t0Ms, t1Ms } = times(q);
    const rcode = asNumber(q['rcode']);
    // getaddrinfo hides the DNS response: a response is recorded only when
    // answers came back, or when the engine saw the RCODE itself.
    const responses: DnsResponseProps[] = answers.length > 0 || failure === '' || rcode !== undefined
      ? [{ rcode: rcode ?? 0, answers, tMs: t1Ms, idMatches: true }]
      : [];
    return {
      resolver: resolverOf(q),
      transport: transportOf(asString(q['engine']) ?? ''),
      queryType: asString(q['query_type']) ?? '',
      hostname: asString(q['hostname']) ?? '',
      responses,
      failure,
      t0Ms,
      t1Ms,
      attempt: 0,
      thirdPartyResolver: isThirdParty(q, testVersion, tagged),
    };
  });
}

/** 0.5's late or duplicate DNS replies become further responses of their query (Steppe's model of injection races). */
function attachDuplicateResponses(tk: JsonObject, queries: DnsQueryProps[], events: NetworkEventProps[]): void {
  for (const d of objectsOf(tk['x_dns_duplicate_responses'])) {
    const hostname = asString(d['hostname']) ?? '';
    const queryType = asString(d['query_type']) ?? '';
    const resolver = resolverOf(d);
    const { t1Ms } = times(d);
    const target = queries.find((q) => q.hostname === hostname && q.queryType === queryType && q.resolver === resolver);
    const response: DnsResponseProps = { rcode: asNumber(d['rcode']) ?? 0, answers: answersOf(d), tMs: t1Ms, idMatches: true };
    if (target !== undefined) target.responses = [...(target.responses ?? []), response];
    events.push({ kind: 'dns_duplicate_response', detail: `${queryType} ${hostname} via ${resolver || 'unknown resolver'}`.slice(0, 256), tMs: t1Ms });
  }
}

function tcpConnects(tk: JsonObject): TcpConnectProps[] {
  const out: TcpConnectProps[] = [];
  for (const c of objectsOf(tk['tcp_connect'])) {
    const ip = asString(c['ip']) ?? '';
    if (isIP(ip) === 0) continue;
    const status = asObject(c['status']);
    let failure = failureFromOoni(status?.['failure']);
    if (failure === '' && asBoolean(status?.['success']) === false) failure = unknownFailure('connect failed without a failure string');
    out.push({ ip, port: Math.floor(asNumber(c['port']) ?? 0), failure, ...times(c), attempt: 0 });
  }
  return out;
}

/**
 * TLS handshakes. Before 0.5 they carry no `address`; each followed a
 * successful TCP connect of the same connectivity step, in order, so when
 * the counts agree the address is taken from that connect.
 */
function tlsHandshakes(tk: JsonObject, domain: string, tcp: readonly TcpConnectProps[]): TlsHandshakeProps[] {
  const handshakes = objectsOf(tk['tls_handshakes']);
  const connected = tcp.filter((t) => (t.failure ?? '') === '');
  const byOrder = handshakes.every((h) => asString(h['address']) === undefined) && connected.length === handshakes.length;
  return handshakes.map((h, i) => {
    const inferred = byOrder ? connected[i] : undefined;
    const endpoint = parseEndpoint(asString(h['address']) ?? '') ?? (inferred === undefined ? undefined : { ip: inferred.ip ?? '', port: inferred.port ?? 443 });
    const reported = failureFromOoni(h['failure']);
    const isVerification = VERIFICATION_FAILURES.has(reported);
    const certificates: Uint8Array[] = [];
    for (const c of asArray(h['peer_certificates']) ?? []) {
      const der = fromMaybeBinaryData(c);
      if (der !== undefined && der.length > 0) certificates.push(der);
    }
    return {
      serverName: asString(h['server_name']) ?? domain,
      ip: endpoint?.ip ?? '',
      port: endpoint?.port ?? 443,
      alpnOffered: [],
      negotiatedAlpn: asString(h['negotiated_protocol']) ?? '',
      tlsVersion: asString(h['tls_version']) ?? '',
      cipherSuite: asString(h['cipher_suite']) ?? '',
      peerCertificates: certificates,
      verificationError: isVerification ? reported : '',
      failure: isVerification ? '' : reported,
      ...times(h),
      controlSni: false,
      attempt: 0,
    };
  });
}

/** Header pairs from `headers_list` (0.2+) or the `headers` map (all versions). */
function headerPairs(message: JsonObject | undefined): HttpHeaderProps[] {
  if (message === undefined) return [];
  const list = asArray(message['headers_list']);
  const out: HttpHeaderProps[] = [];
  const push = (name: unknown, value: unknown): void => {
    const n = asString(name);
    if (n === undefined || n.length === 0) return;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      const bytes = fromMaybeBinaryData(v);
      if (bytes !== undefined) out.push({ name: n, value: Buffer.from(bytes).toString('utf8').slice(0, 1024) });
    }
  };
  if (list !== undefined) {
    for (const pair of list) {
      const p = asArray(pair);
      if (p !== undefined && p.length >= 2) push(p[0], p[1]);
    }
    return out;
  }
  for (const [name, value] of Object.entries(asObject(message['headers']) ?? {})) push(name, value);
  return out;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/**
 * `requests` in the order the requests were made. ts-017 wants them most
 * recent first, and Measurement Kit (0.0.x), probe-engine and probe-cli (0.2
 * to 0.5) and Steppe's own exports (`x_steppe`) write them so.
 * ooniprobe-legacy (0.1.x) appends one entry per attempt at the input URL,
 * each with that attempt's final response (Twisted's RedirectAgent reports
 * no intermediate hop), so its list is already in order. When every entry
 * carries a distinct time (`t0`, else `t`), that order is used instead.
 */
function chronologicalRequests(tk: JsonObject, testVersion: string): JsonObject[] {
  const listed = objectsOf(tk['requests']);
  const legacy = /^0\.1(?:[.\-+]|$)/.test(testVersion) && tk['x_steppe'] === undefined;
  const ordered = legacy ? listed : [...listed].reverse();
  const times = ordered.map((r) => asNumber(r['t0']) ?? asNumber(r['t']));
  const known = times.flatMap((t) => (t === undefined ? [] : [t]));
  if (known.length !== ordered.length || new Set(known).size !== known.length) return ordered;
  return ordered.map((r, i) => ({ r, t: known[i] ?? 0 })).sort((a, b) => a.t - b.t).map((x) => x.r);
}

function httpRequests(tk: JsonObject, input: string, testVersion: string): HttpRequestProps[] {
  const requests = chronologicalRequests(tk, testVersion);
  // Measurement Kit (0.0.x) writes the chain's one failure on every entry:
  // it belongs to the last request only.
  const lastFailure = failureFromOoni(requests[requests.length - 1]?.['failure']);
  const sharedFailure = /^0\.0(?:[.\-+]|$)/.test(testVersion) && lastFailure !== '';
  let previousLocation = '';
  return requests.map((t, index) => {
    const request = asObject(t['request']);
    const response = asObject(t['response']);
    // An entry without a request failed before one was made (Measurement
    // Kit): it was the request for the previous hop's redirect.
    const url = asString(request?.['url']) ?? (previousLocation !== '' ? previousLocation : input);
    const statusCode = Math.max(0, Math.floor(asNumber(response?.['code']) ?? 0));
    const body = fromMaybeBinaryData(response?.['body']);
    const responseHeaders = headerPairs(response)
      .map((h) => ({ name: (h.name ?? '').toLowerCase(), value: h.value ?? '' }))
      .filter((h) => KEPT_RESPONSE_HEADERS.has(h.name));
    const location = responseHeaders.find((h) => h.name === 'location')?.value ?? '';
    const observation: HttpRequestProps = {
      url,
      method: asString(request?.['method']) ?? 'GET',
      requestHeaders: headerPairs(request),
      statusCode,
      responseHeaders,
      failure: sharedFailure && index < requests.length - 1 && statusCode > 0 ? '' : failureFromOoni(t['failure']),
      ...times(t),
      location: statusCode >= 300 && statusCode < 400 && location.length > 0 ? resolveUrl(location, url) : '',
      address: asString(t['address']) ?? '',
      attempt: 0,
      httpVersion: asString(t['alpn']) ?? '',
    };
    if (body !== undefined) {
      observation.bodyLength = body.length;
      observation.bodyTruncated = asBoolean(response?.['body_is_truncated']) ?? false;
      observation.bodySha256 = sha256(body);
      observation.bodyPrefix = body.subarray(0, BODY_PREFIX_BYTES);
      observation.title = extractTitle(body);
    }
    previousLocation = observation.location ?? '';
    return observation;
  });
}

function resolveUrl(location: string, base: string): string {
  try {
    return new URL(location, base).toString();
  } catch {
    return location;
  }
}

/** Per-IP facts from the 0.5 control's `ip_info`: ASN and flags (1: resolved by the probe). */
function ipInfo(c: JsonObject | undefined): Map<string, { asn: number; flags: number }> {
  const out = new Map<string, { asn: number; flags: number }>();
  for (const [ip, value] of Object.entries(asObject(c?.['ip_info']) ?? {})) {
    const v = asObject(value);
    out.set(ip, { asn: Math.max(0, Math.floor(asNumber(v?.['asn']) ?? 0)), flags: Math.floor(asNumber(v?.['flags']) ?? 0) });
  }
  return out;
}

function control(r: JsonObject, tk: JsonObject, startMs: number): ControlProps {
  const c = asObject(tk['control']);
  const info = ipInfo(c);
  const helperValue = asObject(r['test_helpers'])?.['backend'];
  const helper = asString(helperValue) ?? asString(asObject(helperValue)?.['address']) ?? '';
  const out: ControlProps = { measuredAtMs: startMs, helper, probeAddresses: probeAddresses(tk, info) };
  const controlFailure = failureFromOoni(tk['control_failure']);
  if (c === undefined || Object.keys(c).length === 0) {
    out.failure = controlFailure !== '' ? controlFailure : unknownFailure('the OONI record carries no control');
    return out;
  }
  if (controlFailure !== '') out.failure = controlFailure;

  const dns = asObject(c['dns']);
  if (dns !== undefined) {
    const addresses: ControlAddressProps[] = [];
    for (const a of asArray(dns['addrs']) ?? []) {
      const ip = asString(a);
      if (ip !== undefined && isIP(ip) !== 0) addresses.push({ ip, asn: info.get(ip)?.asn ?? 0, asOrg: '' });
    }
    out.dns = { addresses, failure: failureFromOoni(dns['failure']) };
  }
  out.tcp = [];
  for (const [key, value] of Object.entries(asObject(c['tcp_connect']) ?? {})) {
    const endpoint = parseEndpoint(key);
    const v = asObject(value);
    if (endpoint === undefined || v === undefined) continue;
    const ok = asBoolean(v['status']) === true;
    out.tcp.push({ ...endpoint, failure: ok ? '' : failureFromOoni(v['failure']) || unknownFailure('control connect failed without a failure string') });
  }
  out.tls = [];
  for (const [key, value] of Object.entries(asObject(c['tls_handshake']) ?? {})) {
    const endpoint = parseEndpoint(key);
    const v = asObject(value);
    if (endpoint === undefined || v === undefined) continue;
    const ok = asBoolean(v['status']) === true;
    out.tls.push({
      serverName: asString(v['server_name']) ?? '',
      ...endpoint,
      failure: ok ? '' : failureFromOoni(v['failure']) || unknownFailure('control handshake failed without a failure string'),
      validForDomain: ok,
    });
  }
  const http = asObject(c['http_request']);
  if (http !== undefined) {
    // The helper writes -1 for status_code and body_length when it failed (ts-017).
    const status = Math.floor(asNumber(http['status_code']) ?? -1);
    let failure = failureFromOoni(http['failure']);
    if (failure === '' && status <= 0) failure = unknownFailure('control HTTP request got no status code');
    out.http = {
      statusCode: Math.max(0, status),
      bodyLength: Math.max(0, Math.floor(asNumber(http['body_length']) ?? 0)),
      title: (asString(http['title']) ?? '').slice(0, 256),
      headerNames: Object.keys(asObject(http['headers']) ?? {}),
      failure,
    };
  }
  return out;
}

/** ASNs OONI knew for the addresses the probe resolved (answers' `asn`, 0.5 `ip_info` flag 1). */
function probeAddresses(tk: JsonObject, info: ReadonlyMap<string, { asn: number; flags: number }>): ControlAddressProps[] {
  const seen = new Map<string, ControlAddressProps>();
  for (const q of objectsOf(tk['queries'])) {
    for (const a of objectsOf(q['answers'])) {
      const ip = asString(a['ipv4']) ?? asString(a['ipv6']);
      if (ip === undefined || isIP(ip) === 0 || seen.has(ip)) continue;
      const asn = Math.max(0, Math.floor(asNumber(a['asn']) ?? info.get(ip)?.asn ?? 0));
      seen.set(ip, { ip, asn, asOrg: (asString(a['as_org_name']) ?? '').slice(0, 256) });
    }
  }
  for (const [ip, v] of info) {
    if ((v.flags & 1) !== 0 && !seen.has(ip)) seen.set(ip, { ip, asn: v.asn, asOrg: '' });
  }
  return [...seen.values()];
}

function annotations(r: JsonObject, testVersion: string): Record<string, string> {
  const out: Record<string, string> = { source: 'ooni', 'ooni.test_version': testVersion };
  const reportId = asString(r['report_id']);
  if (reportId !== undefined && reportId.length > 0) out['ooni.report_id'] = reportId.slice(0, MAX_ANNOTATION_CHARS);
  let count = 0;
  for (const [key, value] of Object.entries(asObject(r['annotations']) ?? {})) {
    if (count >= MAX_ANNOTATIONS) break;
    const text = asString(value);
    if (text === undefined) continue;
    out[`ooni.${key}`.slice(0, 64)] = text.slice(0, MAX_ANNOTATION_CHARS);
    count += 1;
  }
  return out;
}

function ooniVerdict(tk: JsonObject): OoniVerdict {
  const blocking = tk['blocking'];
  const accessible = asBoolean(tk['accessible']);
  return {
    blocking: blocking === false ? 'false' : typeof blocking === 'string' ? blocking.slice(0, 32) : null,
    accessible: accessible ?? null,
  };
}
