import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { steppe } from '@steppe/proto';
import {
  EgressGuard,
  ObservedFailure,
  Trace,
  commonNameOf,
  dnsAddresses,
  dnsLookup,
  failureOf,
  httpGet,
  isFailure,
  probeThroughputBps,
  sha256,
  tcpConnect,
  tlsHandshake,
  type DnsQueryObservation,
  type HttpRequestObservation,
  type TcpConnectObservation,
  type TlsHandshakeObservation,
  type ControlRequest,
} from '@steppe/shared';
import { type ResolvedControlOptions, dnsAllowList } from './options.js';

/** A ControlMeasurement (proto/steppe/v1/steppe.proto) as plain properties. */
export type ControlMeasurementProps = steppe.v1.ControlMeasurement.$Properties;

/** The control's own DNS answers taken at most. */
export const MAX_OWN_ADDRESSES = 16;

interface Target {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly https: boolean;
}

function targetOf(url: string): Target {
  const parsed = new URL(url);
  const https = parsed.protocol === 'https:';
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { url: parsed.href, host: host.toLowerCase(), port: parsed.port !== '' ? Number(parsed.port) : https ? 443 : 80, https };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

// The failure that says most about a name that did not resolve: an explicit
// error (NXDOMAIN, SERVFAIL, timeout) over an AAAA query's mere "no answer".
function resolutionFailure(queries: readonly DnsQueryObservation[]): string {
  const failures = queries.map((q) => q.failure).filter((f) => f !== '');
  return failures.find((f) => f !== 'dns_no_answer') ?? failures[0] ?? 'dns_no_answer';
}

function issuerCn(der: Uint8Array | undefined): string {
  if (der === undefined) return '';
  try {
    return commonNameOf(new X509Certificate(der).issuer);
  } catch {
    return '';
  }
}

/**
 * Measure `request.url` from the control's vantage with the netx primitives:
 * resolve the host with the control's resolver (A and AAAA), connect to every
 * address (its own answers and the probe's), complete a TLS handshake with
 * each that connected (https), and fetch the URL through the best own
 * address, following redirects. Every socket is checked by the egress guard
 * and bound to the local address. Network failures are recorded, never
 * thrown.
 */
export async function measureControl(request: ControlRequest, options: ResolvedControlOptions): Promise<ControlMeasurementProps> {
  const target = targetOf(request.url);
  const measuredAtMs = options.clock.now();
  const trace = new Trace({ clock: options.clock });
  const guard = new EgressGuard(options.allowNet);
  const dnsGuard = new EgressGuard(dnsAllowList(options));
  const signal = options.signal;
  const step = { localAddress: options.localAddress, timeoutMs: options.stepTimeoutMs, signal, trace };

  const lookup = async (hostname: string): Promise<{ addresses: string[]; failure: string }> => {
    const queries = await Promise.all((['A', 'AAAA'] as const).map((queryType) =>
      // No duplicate window: the control's resolver is trusted, and waiting for injected duplicates would only slow every answer.
      dnsLookup({ ...step, hostname, queryType, resolver: options.resolver, transport: 'udp', guard: dnsGuard, duplicateWindowMs: 0 })));
    const addresses = unique(queries.flatMap((q) => dnsAddresses(q)));
    return { addresses, failure: addresses.length > 0 ? '' : resolutionFailure(queries) };
  };

  // DNS: the control's own answers.
  const resolved = isIP(target.host) !== 0 ? { addresses: [target.host], failure: '' } : await lookup(target.host);
  const own = resolved.addresses.slice(0, MAX_OWN_ADDRESSES);

  // TCP to its own answers and to the probe's.
  const endpoints = unique([...own, ...request.addresses]);
  const tcp: TcpConnectObservation[] = await Promise.all(endpoints.map((ip) => tcpConnect({ ...step, ip, port: target.port, guard })));
  const connected = new Set(tcp.filter((t) => t.failure === '').map((t) => t.ip));

  // TLS with the URL's host as SNI to every address that connected.
  const tls: TlsHandshakeObservation[] = target.https
    ? await Promise.all(endpoints.filter((ip) => connected.has(ip)).map((ip) =>
      tlsHandshake({ ...step, ip, port: target.port, serverName: target.host, extraCa: options.extraCa, guard })))
    : [];
  const validTls = new Set(tls.filter((t) => t.failure === '' && t.verificationError === '').map((t) => t.ip));

  // HTTP through the first own address that worked, others as fallbacks for the same host.
  const usable = own.filter((ip) => (target.https ? validTls.has(ip) : connected.has(ip)));
  const http = usable.length > 0
    ? await fetch(target, usable, lookup, options, trace)
    : { failure: firstFailure(own, resolved.failure, tcp, tls) };

  return {
    failure: '',
    dns: {
      addresses: own.map((ip) => ({ ip, ...options.asnLookup(ip) })),
      failure: resolved.failure,
    },
    tcp: tcp.map((t) => ({ ip: t.ip, port: t.port, failure: t.failure })),
    tls: tls.map((t) => ({
      serverName: t.serverName,
      ip: t.ip,
      port: t.port,
      failure: t.failure,
      leafSha256: t.peerCertificates[0] === undefined ? new Uint8Array() : sha256(t.peerCertificates[0]),
      validForDomain: t.failure === '' && t.verificationError === '',
      issuerCn: issuerCn(t.peerCertificates[0]),
    })),
    http,
    measuredAtMs,
    helper: '',
    probeAddresses: request.addresses.map((ip) => ({ ip, ...options.asnLookup(ip) })),
  };
}

// Why no request could be made: the first failing step for the control's own addresses.
function firstFailure(own: readonly string[], dnsFailure: string, tcp: readonly TcpConnectObservation[], tls: readonly TlsHandshakeObservation[]): string {
  if (own.length === 0) return dnsFailure || 'dns_no_answer';
  const mine = (ip: string): boolean => own.includes(ip);
  const tlsProblem = tls.find((t) => mine(t.ip) && (t.failure !== '' || t.verificationError !== ''));
  if (tlsProblem !== undefined) return tlsProblem.failure || tlsProblem.verificationError;
  return tcp.find((t) => mine(t.ip) && t.failure !== '')?.failure ?? 'unknown_failure: no usable address';
}

async function fetch(
  target: Target,
  usable: readonly string[],
  lookup: (hostname: string) => Promise<{ addresses: string[]; failure: string }>,
  options: ResolvedControlOptions,
  trace: Trace,
): Promise<steppe.v1.ControlHttp.$Properties> {
  const resolve = async (hostname: string): Promise<readonly string[]> => {
    const host = hostname.toLowerCase();
    if (host === target.host) return usable;
    const { addresses, failure } = await lookup(host);
    if (addresses.length === 0) throw new ObservedFailure(isFailure(failure) ? failure : 'dns_no_answer', `no address for a redirect host: ${failure}`);
    return addresses;
  };
  let hops: HttpRequestObservation[];
  try {
    hops = await httpGet({
      url: target.url,
      resolve,
      firstAddress: usable[0],
      localAddress: options.localAddress,
      timeoutMs: options.httpTimeoutMs,
      maxBodyBytes: options.maxBodyBytes,
      extraCa: options.extraCa,
      signal: options.signal,
      guard: new EgressGuard(options.allowNet),
      trace,
    });
  } catch (err) {
    return { failure: failureOf(err) };
  }
  const final = hops[hops.length - 1];
  if (final === undefined) return { failure: 'unknown_failure: no request made' };
  return {
    statusCode: final.statusCode,
    bodyLength: final.bodyLength,
    title: final.title,
    headerNames: unique(final.responseHeaders.map((h) => h.name.toLowerCase())),
    failure: final.failure,
    bodySha256: final.bodySha256,
    bodyTruncated: final.bodyTruncated,
    finalUrl: final.url,
    throughputBps: final.failure === '' ? probeThroughputBps(final) ?? 0 : 0,
  };
}
