import { isIP } from 'node:net';
import type { steppe } from '@steppe/proto';
import { idToString, isBogon, wire, type Json, type Measurement } from '@steppe/shared';
import { toBinaryData, toMaybeBinaryData } from './binary-data.js';
import { compareWithControl, finalRequest } from './comparison.js';
import { endpointKey } from './endpoint.js';
import { failureToOoni } from './failures.js';
import type { MeasurementRecord } from '../store/store.js';
import { compactOoniTime, formatOoniTime, msToSeconds } from './time.js';

type DnsQueryProps = steppe.v1.DnsQuery.$Properties;
type DnsResponseProps = steppe.v1.DnsResponse.$Properties;
type HttpHeaderProps = steppe.v1.HttpHeader.$Properties;
type HttpRequestProps = steppe.v1.HttpRequest.$Properties;
type ControlProps = steppe.v1.ControlMeasurement.$Properties;
type AnalysisProps = steppe.v1.Analysis.$Properties;

/** OONI's data format version of the base keys (df-000-base). */
export const OONI_DATA_FORMAT_VERSION = '0.2.0';

/** The IP OONI writes for `probe_ip`: the real one is never published (nor known to Steppe's collector). */
export const OONI_PROBE_IP_PLACEHOLDER = '127.0.0.1';

/** What the collector knows of a measurement beyond its bytes: the store's columns it derived or recomputed. */
export type OoniExportContext = Pick<
  MeasurementRecord,
  'asn' | 'cc' | 'networkName' | 'verdict' | 'blockingType' | 'anomaly' | 'confirmed' | 'failure' | 'fingerprintId' | 'source' | 'reportId' | 'ooni' | 'receivedMs'
>;

type JsonObject = { [key: string]: Json };

/**
 * One measurement in OONI's data format (ooni/spec df-000-base plus
 * web_connectivity-style test_keys: df-002 `queries`, df-005 `tcp_connect`,
 * df-006 `tls_handshakes`, df-001 `requests`, the helper's `control`, and
 * the comparison and `blocking`/`accessible` keys), so OONI's tooling can
 * read a Steppe dataset. Steppe's own verdict travels in
 * `test_keys.x_steppe`. Times: OONI uses seconds, Steppe milliseconds.
 * Mapping table: docs/data-format.md; decisions: docs/design/dd-003-ooni-compat.md.
 */
export function toOoniMeasurement(m: Measurement, context: OoniExportContext): JsonObject {
  const id = idToString(m.id);
  const start = formatOoniTime(m.startTimeMs);
  const observations = m.observations;
  const control = m.control;
  const queries = observations?.dnsQueries ?? [];
  const requests = observations?.httpRequests ?? [];
  const resolverIp = firstResolverIp(queries);
  const comparison = compareWithControl(observations, control, m.analysis?.controlSummary?.dnsConsistency ?? '');
  const final = finalRequest(requests);
  const ooniBlocking = context.source === 'ooni' && context.ooni !== null ? ooniPair(context.ooni) : blockingFromVerdict(context.verdict, final);
  const asnOf = probeAsns(control);

  const testKeys: JsonObject = {
    agent: 'redirect',
    client_resolver: resolverIp,
    retries: null,
    socksproxy: null,
    queries: queries.map((q) => ooniQuery(q, q.responses?.[0], asnOf)),
    x_dns_duplicate_responses: queries.flatMap((q) => (q.responses ?? []).slice(1).map((r) => ooniQuery(q, r, asnOf))),
    tcp_connect: (observations?.tcpConnects ?? []).map((c) => {
      const blocked = tcpBlocked(c.ip ?? '', c.port ?? 0, c.failure ?? '', control);
      const status: JsonObject = { failure: failureToOoni(c.failure), success: (c.failure ?? '') === '' };
      if (blocked !== undefined) status['blocked'] = blocked;
      return { ip: c.ip ?? '', port: c.port ?? 0, status, t0: msToSeconds(c.t0Ms ?? 0), t: msToSeconds(c.t1Ms ?? 0) };
    }),
    tls_handshakes: (observations?.tlsHandshakes ?? []).map((h) => ({
      network: 'tcp',
      address: endpointKey(h.ip ?? '', h.port ?? 0),
      cipher_suite: h.cipherSuite ?? '',
      failure: failureToOoni((h.failure ?? '') !== '' ? h.failure : h.verificationError),
      negotiated_protocol: h.negotiatedAlpn ?? '',
      no_tls_verify: false,
      peer_certificates: (h.peerCertificates ?? []).map((der) => toBinaryData(der)),
      server_name: h.serverName ?? '',
      t0: msToSeconds(h.t0Ms ?? 0),
      t: msToSeconds(h.t1Ms ?? 0),
      tags: h.controlSni === true ? ['x_steppe_control_sni'] : [],
      tls_version: h.tlsVersion ?? '',
    })),
    // df-001 and ts-017: the final response first.
    requests: [...requests].reverse().map(ooniRequest),
    network_events: [],
    control: control == null ? null : ooniControl(control, queries),
    control_failure: control == null ? 'unknown_failure: no control' : failureToOoni(control.failure),
    dns_experiment_failure: dnsExperimentFailure(queries),
    dns_consistency: comparison.dns_consistency,
    http_experiment_failure: httpExperimentFailure(final, observations?.tlsHandshakes ?? [], observations?.tcpConnects ?? [], queries),
    body_length_match: comparison.body_length_match,
    body_proportion: comparison.body_proportion,
    status_code_match: comparison.status_code_match,
    headers_match: comparison.headers_match,
    title_match: comparison.title_match,
    blocking: ooniBlocking.blocking,
    accessible: ooniBlocking.accessible,
    x_steppe: xSteppe(m, id, context),
  };

  const annotations: JsonObject = {};
  for (const [k, v] of Object.entries(m.annotations ?? {})) annotations[k] = v;
  annotations['steppe_measurement_id'] = id;
  annotations['steppe_source'] = context.source;

  return {
    annotations,
    data_format_version: OONI_DATA_FORMAT_VERSION,
    input: m.input,
    measurement_start_time: start,
    probe_asn: `AS${context.asn}`,
    probe_cc: context.cc,
    probe_ip: OONI_PROBE_IP_PLACEHOLDER,
    probe_network_name: context.networkName,
    report_id: context.reportId !== null && context.reportId !== '' ? context.reportId : steppeReportId(m, context),
    resolver_asn: 'AS0',
    resolver_ip: resolverIp ?? '',
    resolver_network_name: '',
    software_name: m.softwareName !== '' ? m.softwareName : 'steppe-probe',
    software_version: m.softwareVersion,
    test_helpers: control?.helper ? { backend: { address: control.helper, type: 'https' } } : {},
    test_keys: testKeys,
    test_name: m.testName,
    test_runtime: msToSeconds(m.runtimeMs),
    test_start_time: start,
    test_version: m.testVersion,
  };
}

/**
 * A report id of OONI's shape ("YYYYMMDDTHHMMSSZ_<test>_<CC>_<ASN>_n1_<random>")
 * for a Steppe measurement; the last part comes from the measurement id.
 */
function steppeReportId(m: Measurement, context: OoniExportContext): string {
  const tail = Buffer.from(m.id.subarray(8, 16)).toString('hex');
  return `${compactOoniTime(m.startTimeMs)}_${m.testName.replace(/_/g, '')}_${context.cc}_${context.asn}_n1_steppe${tail}`;
}

function firstResolverIp(queries: readonly DnsQueryProps[]): string | null {
  for (const q of queries) {
    if (q.transport === wire.DnsTransport.DNS_TRANSPORT_DOH) continue;
    const resolver = q.resolver ?? '';
    const host = resolver.startsWith('[') ? resolver.slice(1, resolver.indexOf(']')) : resolver.split(':')[0] ?? '';
    if (isIP(host) !== 0) return host;
  }
  return null;
}

function engineOf(transport: steppe.v1.DnsTransport | null | undefined): string {
  switch (transport) {
    case wire.DnsTransport.DNS_TRANSPORT_UDP:
      return 'udp';
    case wire.DnsTransport.DNS_TRANSPORT_TCP:
      return 'tcp';
    case wire.DnsTransport.DNS_TRANSPORT_DOH:
      return 'doh';
    default:
      return 'unknown';
  }
}

function probeAsns(control: ControlProps | null | undefined): Map<string, { asn: number; asOrg: string }> {
  const out = new Map<string, { asn: number; asOrg: string }>();
  for (const a of control?.probeAddresses ?? []) out.set(a.ip ?? '', { asn: a.asn ?? 0, asOrg: a.asOrg ?? '' });
  return out;
}

function ooniQuery(q: DnsQueryProps, response: DnsResponseProps | undefined, asnOf: ReadonlyMap<string, { asn: number; asOrg: string }>): JsonObject {
  const answers: Json[] = (response?.answers ?? []).map((a) => {
    const type = a.answerType ?? '';
    const value = a.value ?? '';
    const out: JsonObject = { answer_type: type };
    if (type === 'A') out['ipv4'] = value;
    else if (type === 'AAAA') out['ipv6'] = value;
    else out['hostname'] = value;
    const known = asnOf.get(value);
    if (known !== undefined && known.asn > 0) {
      out['asn'] = known.asn;
      out['as_org_name'] = known.asOrg;
    }
    out['ttl'] = a.ttl ?? null;
    return out;
  });
  const out: JsonObject = {
    answers,
    engine: engineOf(q.transport),
    failure: failureToOoni(q.failure),
    hostname: q.hostname ?? '',
    query_type: q.queryType ?? '',
    resolver_hostname: null,
    resolver_port: null,
    resolver_address: q.resolver ?? '',
    t0: msToSeconds(q.t0Ms ?? 0),
    t: msToSeconds(response?.tMs ?? q.t1Ms ?? 0),
    // ts-017: the classic (system resolver's) results carry the `classic` tag;
    // third-party resolvers' do not (the importer reads it back).
    tags: q.thirdPartyResolver === true ? [] : ['classic'],
  };
  if (response !== undefined) out['rcode'] = response.rcode ?? 0;
  return out;
}

function headersOut(headers: readonly HttpHeaderProps[]): { headers: JsonObject; headers_list: Json[] } {
  const map: JsonObject = {};
  const list: Json[] = [];
  for (const h of headers) {
    const name = h.name ?? '';
    const value = h.value ?? '';
    list.push([name, value]);
    // df-001: the map keeps the first value of a repeated header.
    if (!Object.hasOwn(map, name)) map[name] = value;
  }
  return { headers: map, headers_list: list };
}

function ooniRequest(r: HttpRequestProps): JsonObject {
  const request = headersOut(r.requestHeaders ?? []);
  const response = headersOut(r.responseHeaders ?? []);
  const prefix = r.bodyPrefix ?? new Uint8Array();
  const bodyLength = r.bodyLength ?? 0;
  const received = (r.statusCode ?? 0) > 0;
  const out: JsonObject = {
    failure: failureToOoni(r.failure),
    request: {
      body: '',
      body_is_truncated: false,
      headers_list: request.headers_list,
      headers: request.headers,
      method: r.method !== undefined && r.method !== null && r.method !== '' ? r.method : 'GET',
      tor: { exit_ip: null, exit_name: null, is_tor: false },
      x_transport: 'tcp',
      url: r.url ?? '',
    },
    response: {
      // Steppe keeps the first bytes of the body (`body_prefix`), not all of it.
      body: received ? toMaybeBinaryData(prefix) : '',
      body_is_truncated: (r.bodyTruncated ?? false) || prefix.length < bodyLength,
      code: r.statusCode ?? 0,
      headers_list: response.headers_list,
      headers: response.headers,
      x_body_length: bodyLength,
      x_body_sha256: r.bodySha256 !== undefined && r.bodySha256 !== null && r.bodySha256.length > 0 ? Buffer.from(r.bodySha256).toString('hex') : null,
    },
    t0: msToSeconds(r.t0Ms ?? 0),
    t: msToSeconds(r.t1Ms ?? 0),
  };
  if ((r.address ?? '') !== '') out['address'] = r.address ?? '';
  if ((r.httpVersion ?? '') !== '') out['alpn'] = r.httpVersion ?? '';
  return out;
}

function tcpBlocked(ip: string, port: number, failure: string, control: ControlProps | null | undefined): boolean | undefined {
  const entry = (control?.tcp ?? []).find((t) => t.ip === ip && t.port === port);
  if (entry === undefined) return undefined;
  // ts-017: blocked when the probe failed and the control succeeded.
  return failure !== '' && (entry.failure ?? '') === '';
}

/** The control in the shape of the web_connectivity test helper's response (ts-017). */
function ooniControl(c: ControlProps, queries: readonly DnsQueryProps[]): JsonObject {
  const tcp: JsonObject = {};
  for (const t of c.tcp ?? []) tcp[endpointKey(t.ip ?? '', t.port ?? 0)] = { status: (t.failure ?? '') === '', failure: failureToOoni(t.failure) };
  const tls: JsonObject = {};
  for (const t of c.tls ?? []) {
    tls[endpointKey(t.ip ?? '', t.port ?? 0)] = { server_name: t.serverName ?? '', status: (t.failure ?? '') === '', failure: failureToOoni(t.failure) };
  }
  const out: JsonObject = { tcp_connect: tcp, tls_handshake: tls };
  const http = c.http;
  if (http != null) {
    const ok = (http.failure ?? '') === '' && (http.statusCode ?? 0) > 0;
    const headers: JsonObject = {};
    // Steppe's control keeps header names only.
    for (const name of http.headerNames ?? []) headers[name] = '';
    out['http_request'] = {
      body_length: ok ? (http.bodyLength ?? 0) : -1,
      failure: failureToOoni(http.failure),
      title: http.title ?? '',
      headers,
      status_code: ok ? (http.statusCode ?? 0) : -1,
    };
  }
  if (c.dns != null) {
    out['dns'] = { failure: failureToOoni(c.dns.failure), addrs: (c.dns.addresses ?? []).map((a) => a.ip ?? '') };
  }
  out['ip_info'] = ipInfo(c, queries);
  return out;
}

/**
 * ip_info as the 0.5 helper writes it: ASN and flags per address
 * (1 resolved by the probe, 2 resolved by the helper, 4 bogon, 8 valid for
 * the domain per the helper's TLS handshake).
 */
function ipInfo(c: ControlProps, queries: readonly DnsQueryProps[]): JsonObject {
  const info = new Map<string, { asn: number; flags: number }>();
  const add = (ip: string, asn: number, flag: number): void => {
    if (isIP(ip) === 0) return;
    const entry = info.get(ip) ?? { asn: 0, flags: isBogon(ip) ? 4 : 0 };
    if (asn > 0) entry.asn = asn;
    entry.flags |= flag;
    info.set(ip, entry);
  };
  for (const q of queries) for (const r of q.responses ?? []) for (const a of r.answers ?? []) add(a.value ?? '', 0, 1);
  for (const a of c.probeAddresses ?? []) add(a.ip ?? '', a.asn ?? 0, 1);
  for (const a of c.dns?.addresses ?? []) add(a.ip ?? '', a.asn ?? 0, 2);
  for (const t of c.tls ?? []) if ((t.failure ?? '') === '' && t.validForDomain === true) add(t.ip ?? '', 0, 8);
  const out: JsonObject = {};
  for (const [ip, v] of info) out[ip] = { asn: v.asn, flags: v.flags };
  return out;
}

/**
 * OONI's HTTP experiment fetches the page with its own connections, so a
 * failed TLS handshake or TCP connect is its failure too. Steppe makes no
 * request after those steps failed: the failure that stopped it stands in.
 */
function httpExperimentFailure(
  final: HttpRequestProps | undefined,
  tls: readonly steppe.v1.TlsHandshake.$Properties[],
  tcp: readonly steppe.v1.TcpConnect.$Properties[],
  queries: readonly DnsQueryProps[],
): string | null {
  if (final !== undefined) return failureToOoni(final.failure);
  const handshakes = tls.filter((h) => h.controlSni !== true);
  if (handshakes.length > 0 && handshakes.every((h) => (h.failure ?? '') !== '' || (h.verificationError ?? '') !== '')) {
    const h = handshakes[0];
    return failureToOoni((h?.failure ?? '') !== '' ? h?.failure : h?.verificationError);
  }
  if (tcp.length > 0 && tcp.every((c) => (c.failure ?? '') !== '')) return failureToOoni(tcp[0]?.failure);
  return dnsExperimentFailure(queries);
}

/** The classic DNS failure: set only when no lookup produced an address. */
function dnsExperimentFailure(queries: readonly DnsQueryProps[]): string | null {
  if (queries.length === 0) return null;
  const resolved = queries.some((q) => (q.responses?.[0]?.answers ?? []).some((a) => a.answerType === 'A' || a.answerType === 'AAAA'));
  if (resolved) return null;
  return failureToOoni(queries.find((q) => (q.failure ?? '') !== '')?.failure);
}

function ooniPair(ooni: { readonly blocking: string | null; readonly accessible: boolean | null }): { blocking: Json; accessible: Json } {
  return { blocking: ooni.blocking === 'false' ? false : ooni.blocking, accessible: ooni.accessible };
}

/**
 * OONI's `blocking`/`accessible` pair for a Steppe verdict (dd-003): OONI has
 * no interception, blockpage or throttling values, so those map to the
 * step OONI would have seen fail, and Steppe's verdict stays in x_steppe.
 */
export function blockingFromVerdict(verdict: string, final: HttpRequestProps | undefined): { blocking: Json; accessible: Json } {
  switch (verdict) {
    case 'accessible':
      return { blocking: false, accessible: true };
    case 'down':
      return { blocking: false, accessible: false };
    case 'dns':
      return { blocking: 'dns', accessible: false };
    case 'tcp_ip':
      return { blocking: 'tcp_ip', accessible: false };
    case 'tls':
    case 'interception':
    case 'http-failure':
      return { blocking: 'http-failure', accessible: false };
    case 'http-diff':
    case 'blockpage':
      return { blocking: 'http-diff', accessible: false };
    case 'throttled':
      // The page did load (slowly) unless the final request failed.
      return final !== undefined && (final.failure ?? '') !== '' ? { blocking: 'http-failure', accessible: false } : { blocking: false, accessible: true };
    default:
      return { blocking: null, accessible: null };
  }
}

function analysisJson(a: AnalysisProps | null | undefined): JsonObject | null {
  if (a == null) return null;
  const s = a.controlSummary;
  return {
    verdict: a.verdict ?? '',
    blocking_type: a.blockingType ?? '',
    accessible: a.accessible ?? false,
    anomaly: a.anomaly ?? false,
    confirmed: a.confirmed ?? false,
    failure: failureToOoni(a.failure),
    failed_step: a.failedStep ?? '',
    fingerprint_id: a.fingerprintId ?? '',
    interception_issuer_cn: a.interceptionIssuerCn ?? '',
    evidence: [...(a.evidence ?? [])],
    engine_version: a.engineVersion ?? '',
    control_summary: s == null ? null : {
      control_ok: s.controlOk ?? false,
      control_failure: failureToOoni(s.controlFailure),
      dns_consistency: s.dnsConsistency ?? '',
      throughput_ratio: s.throughputRatio ?? 0,
    },
  };
}

function xSteppe(m: Measurement, id: string, context: OoniExportContext): JsonObject {
  const network = (m.observations?.networkEvents ?? []).map((e) => ({ kind: e.kind ?? '', detail: e.detail ?? '', t: msToSeconds(e.tMs ?? 0) }));
  return {
    measurement_id: id,
    probe_id: m.probeId,
    source: context.source,
    start_time: m.startTimeMs === 0 ? null : new Date(m.startTimeMs).toISOString(),
    received_time: new Date(context.receivedMs).toISOString(),
    domain: m.domain,
    category_code: m.categoryCode,
    test_list: m.testList,
    test_list_version: m.testListVersion,
    verdict: context.verdict,
    blocking_type: context.blockingType,
    anomaly: context.anomaly,
    confirmed: context.confirmed,
    failure: context.failure,
    fingerprint_id: context.fingerprintId,
    ooni_blocking: context.ooni === null ? null : ooniPair(context.ooni).blocking,
    ooni_accessible: context.ooni === null ? null : context.ooni.accessible,
    probe_analysis: analysisJson(m.analysis),
    network_events: network,
  };
}
