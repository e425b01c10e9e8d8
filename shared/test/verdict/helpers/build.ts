import { createHash } from 'node:crypto';
import type { steppe } from '@steppe/proto';
import { wire } from '@steppe/shared';

/**
 * Hand-built observations and controls for verdict tests. Every builder
 * returns wire property objects exactly as the probe records them; defaults
 * describe an honest HTTPS fetch of www.facebook.com.
 */

export type DnsQuery = steppe.v1.DnsQuery.$Properties;
export type TcpConnect = steppe.v1.TcpConnect.$Properties;
export type TlsHandshake = steppe.v1.TlsHandshake.$Properties;
export type HttpRequest = steppe.v1.HttpRequest.$Properties;
export type Observations = steppe.v1.Observations.$Properties;
export type Control = steppe.v1.ControlMeasurement.$Properties;

export const DOMAIN = 'www.facebook.com';
export const URL_HTTPS = 'https://www.facebook.com/';
export const URL_HTTP = 'http://www.facebook.com/';
/** The site's address as both vantages resolve it. */
export const SITE_IP = '31.13.72.36';
export const PAGE = '<html><head><title>Facebook - log in or sign up</title></head><body>' + 'x'.repeat(5000) + '</body></html>';

export function sha(text: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(text).digest());
}

/** A DNS response: addresses (A unless they contain ':'). */
export function response(addresses: readonly string[], rcode = 0): steppe.v1.DnsResponse.$Properties {
  return {
    rcode,
    idMatches: true,
    answers: addresses.map((value) => ({ answerType: value.includes(':') ? 'AAAA' : 'A', value, ttl: 60 })),
    tMs: 10,
  };
}

export function dnsQuery(p: {
  addresses?: readonly string[];
  responses?: readonly steppe.v1.DnsResponse.$Properties[];
  failure?: string;
  rcode?: number;
  queryType?: string;
  hostname?: string;
  attempt?: number;
  /** A third-party resolver's query (`third_party_resolver`), at `resolver`. */
  thirdParty?: boolean;
  resolver?: string;
  transport?: steppe.v1.DnsTransport;
} = {}): DnsQuery {
  const failure = p.failure ?? '';
  const responses = [...(p.responses ?? (failure === 'generic_timeout_error' ? [] : [response(p.addresses ?? [SITE_IP], p.rcode ?? 0)]))];
  return {
    resolver: p.resolver ?? (p.thirdParty === true ? '9.9.9.9:53' : '127.0.0.53:53'),
    transport: p.transport ?? wire.DnsTransport.DNS_TRANSPORT_UDP,
    queryType: p.queryType ?? 'A',
    hostname: p.hostname ?? DOMAIN,
    responses,
    failure,
    t0Ms: 0,
    t1Ms: 12,
    attempt: p.attempt ?? 0,
    thirdPartyResolver: p.thirdParty ?? false,
  };
}

export function tcp(ip = SITE_IP, failure = '', attempt = 0, port = 443): TcpConnect {
  return { ip, port, failure, t0Ms: 12, t1Ms: 30, attempt };
}

export function tls(p: {
  ip?: string;
  port?: number;
  sni?: string;
  controlSni?: boolean;
  failure?: string;
  verificationError?: string;
  chain?: readonly Uint8Array[];
  attempt?: number;
} = {}): TlsHandshake {
  const controlSni = p.controlSni ?? false;
  return {
    serverName: p.sni ?? (controlSni ? 'example.org' : DOMAIN),
    ip: p.ip ?? SITE_IP,
    port: p.port ?? 443,
    alpnOffered: ['h2', 'http/1.1'],
    negotiatedAlpn: (p.failure ?? '') === '' ? 'h2' : '',
    tlsVersion: (p.failure ?? '') === '' ? 'TLSv1.3' : '',
    peerCertificates: [...(p.chain ?? [])],
    verificationError: p.verificationError ?? '',
    failure: p.failure ?? '',
    t0Ms: 30,
    t1Ms: 60,
    controlSni,
    attempt: p.attempt ?? 0,
  };
}

export function http(p: {
  url?: string;
  status?: number;
  body?: string;
  title?: string;
  headers?: readonly [string, string][];
  failure?: string;
  location?: string;
  throughput?: readonly [number, number][];
  attempt?: number;
  truncated?: boolean;
  bodyLength?: number;
  t0Ms?: number;
  t1Ms?: number;
} = {}): HttpRequest {
  const failure = p.failure ?? '';
  const body = p.body ?? (failure === '' ? PAGE : '');
  const bytes = new TextEncoder().encode(body);
  return {
    url: p.url ?? URL_HTTPS,
    method: 'GET',
    statusCode: p.status ?? (failure === '' ? 200 : 0),
    responseHeaders: (p.headers ?? [['content-type', 'text/html; charset=utf-8']]).map(([name, value]) => ({ name, value })),
    bodyLength: p.bodyLength ?? bytes.length,
    bodyTruncated: p.truncated ?? false,
    bodySha256: bytes.length > 0 ? sha(bytes) : new Uint8Array(),
    bodyPrefix: bytes.subarray(0, 4096),
    title: p.title ?? (/<title>([^<]*)<\/title>/.exec(body)?.[1] ?? ''),
    failure,
    t0Ms: p.t0Ms ?? 60,
    t1Ms: p.t1Ms ?? 120,
    location: p.location ?? '',
    address: `${SITE_IP}:443`,
    throughput: (p.throughput ?? []).map(([tMs, b]) => ({ tMs, bytes: b })),
    attempt: p.attempt ?? 0,
    httpVersion: 'h2',
  };
}

/** Observations of an honest HTTPS fetch, with overrides. */
export function observations(p: Partial<Record<keyof Observations, unknown[]>> = {}): Observations {
  return {
    dnsQueries: (p.dnsQueries as DnsQuery[] | undefined) ?? [dnsQuery()],
    tcpConnects: (p.tcpConnects as TcpConnect[] | undefined) ?? [tcp()],
    tlsHandshakes: (p.tlsHandshakes as TlsHandshake[] | undefined) ?? [tls()],
    httpRequests: (p.httpRequests as HttpRequest[] | undefined) ?? [http()],
    networkEvents: (p.networkEvents as steppe.v1.NetworkEvent.$Properties[] | undefined) ?? [],
  };
}

/** A control that fetched the honest page, with overrides. */
/** One control TLS result in `control()`. */
export interface ControlTlsSpec {
  ip?: string;
  failure?: string;
  valid?: boolean;
  leaf?: Uint8Array;
  issuerCn?: string;
}

export function control(p: {
  addresses?: readonly (string | [string, number])[];
  probeAddresses?: readonly [string, number][];
  dnsFailure?: string;
  tcp?: readonly [string, string][];
  tls?: readonly ControlTlsSpec[];
  http?: Partial<steppe.v1.ControlHttp.$Properties> | null;
  failure?: string;
} = {}): Control {
  const addresses = (p.addresses ?? [SITE_IP]).map((a) => (typeof a === 'string' ? { ip: a, asn: 0, asOrg: '' } : { ip: a[0], asn: a[1], asOrg: `AS${a[1]}` }));
  const bytes = new TextEncoder().encode(PAGE);
  return {
    failure: p.failure ?? '',
    dns: { addresses: p.dnsFailure === undefined ? addresses : [], failure: p.dnsFailure ?? '' },
    tcp: (p.tcp ?? addresses.map((a) => [a.ip, ''] as [string, string])).map(([ip, failure]) => ({ ip, port: 443, failure })),
    tls: (p.tls ?? addresses.map((a): ControlTlsSpec => ({ ip: a.ip }))).map((t) => ({
      serverName: DOMAIN,
      ip: t.ip ?? SITE_IP,
      port: 443,
      failure: t.failure ?? '',
      leafSha256: t.leaf === undefined ? sha('honest leaf') : sha(t.leaf),
      validForDomain: t.valid ?? (t.failure ?? '') === '',
      issuerCn: t.issuerCn ?? 'Lab Honest Root',
    })),
    http: p.http === null ? null : {
      statusCode: 200,
      bodyLength: bytes.length,
      title: 'Facebook - log in or sign up',
      headerNames: ['content-type', 'x-fb-debug', 'server'],
      failure: '',
      bodySha256: sha(bytes),
      bodyTruncated: false,
      finalUrl: URL_HTTPS,
      throughputBps: 2_000_000,
      ...p.http,
    },
    measuredAtMs: 1_607_212_800_000,
    helper: 'http://127.0.0.1:9999',
    probeAddresses: (p.probeAddresses ?? []).map(([ip, asn]) => ({ ip, asn, asOrg: asn === 0 ? '' : `AS${asn}` })),
  };
}
