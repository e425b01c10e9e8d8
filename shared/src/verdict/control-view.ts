import type { steppe } from '@steppe/proto';
import type { Operation } from '../failures.js';

type Control = steppe.v1.ControlMeasurement.$Properties;
type ControlTls = steppe.v1.ControlTls.$Properties;

/** What the control vantage saw, reduced to the questions the rules ask. */
export interface ControlView {
  /** A control measurement is present and has no `failure`. */
  readonly available: boolean;
  /** `control.failure`, or a note that no control was attached. */
  readonly unavailableReason: string;
  /** The control resolved the domain (no failure, at least one address). */
  readonly dnsOk: boolean;
  readonly dnsFailure: string;
  /** The control's own DNS answers. */
  readonly addresses: ReadonlySet<string>;
  /** Non-zero ASNs of the control's own answers (AS0 means unknown and never matches). */
  readonly asns: ReadonlySet<number>;
  /** Known ASN (non-zero) of any address, the control's own answers and the probe's. */
  readonly asnOf: ReadonlyMap<string, number>;
  /** TCP: any connect to the control's own addresses succeeded (undefined: none recorded). */
  readonly tcpOk: boolean | undefined;
  /** Addresses (any) the control connected to successfully. */
  readonly tcpOkIps: ReadonlySet<string>;
  /** TLS: any handshake to the control's own addresses completed (undefined: none recorded). */
  readonly tlsOk: boolean | undefined;
  /** Some control handshake completed with a chain valid for the domain. */
  readonly tlsValid: boolean;
  /** Addresses whose control handshake completed with a chain valid for the domain. */
  readonly tlsValidIps: ReadonlySet<string>;
  /** SHA-256 (hex) of every leaf the control saw. */
  readonly leafSha256s: ReadonlySet<string>;
  readonly tls: readonly ControlTls[];
  /** The control's HTTP result, when it made the request. */
  readonly http: steppe.v1.ControlHttp.$Properties | undefined;
  /** The control fetched the page (no failure, a status code). */
  readonly httpOk: boolean;
  /** The step where the control itself failed: the site is down, not blocked. */
  readonly siteDown: { readonly step: Operation; readonly failure: string; readonly evidence: string } | undefined;
}

function hex(bytes: Uint8Array | null | undefined): string {
  return bytes === null || bytes === undefined || bytes.length === 0 ? '' : Buffer.from(bytes).toString('hex');
}

/** Reduce a control measurement (possibly absent) to a ControlView. */
export function controlView(control: Control | null | undefined): ControlView {
  const failure = control?.failure ?? '';
  const available = control !== null && control !== undefined && failure === '';
  const dns = control?.dns ?? undefined;
  const addresses = new Set((dns?.addresses ?? []).map((a) => a.ip ?? '').filter((ip) => ip !== ''));
  const asns = new Set((dns?.addresses ?? []).map((a) => a.asn ?? 0).filter((asn) => asn !== 0));
  const asnOf = new Map<string, number>();
  for (const a of [...(dns?.addresses ?? []), ...(control?.probeAddresses ?? [])]) {
    if ((a.asn ?? 0) !== 0 && (a.ip ?? '') !== '') asnOf.set(a.ip ?? '', a.asn ?? 0);
  }
  const dnsFailure = dns?.failure ?? '';
  const dnsOk = available && dns !== undefined && dnsFailure === '' && addresses.size > 0;

  const tcpAll = control?.tcp ?? [];
  const tcpOwn = tcpAll.filter((t) => addresses.has(t.ip ?? ''));
  const tcpOkIps = new Set(tcpAll.filter((t) => (t.failure ?? '') === '').map((t) => t.ip ?? ''));
  const tcpOk = tcpOwn.length === 0 ? undefined : tcpOwn.some((t) => (t.failure ?? '') === '');

  const tls = control?.tls ?? [];
  const tlsOwn = tls.filter((t) => addresses.has(t.ip ?? ''));
  const tlsOk = tlsOwn.length === 0 ? undefined : tlsOwn.some((t) => (t.failure ?? '') === '');
  const validHandshakes = tls.filter((t) => (t.failure ?? '') === '' && t.validForDomain === true);
  const tlsValidIps = new Set(validHandshakes.map((t) => t.ip ?? ''));
  const leafSha256s = new Set(tls.map((t) => hex(t.leafSha256)).filter((h) => h !== ''));

  const http = control?.http ?? undefined;
  const httpOk = available && http !== undefined && (http.failure ?? '') === '' && (http.statusCode ?? 0) > 0;

  let siteDown: ControlView['siteDown'];
  if (available) {
    if (dns !== undefined && !dnsOk) {
      siteDown = { step: 'dns', failure: dnsFailure || 'dns_no_answer', evidence: `control.dns failed (${dnsFailure || 'no address'})` };
    } else if (tcpOk === false) {
      const f = tcpOwn[0]?.failure ?? '';
      siteDown = { step: 'tcp_connect', failure: f, evidence: `control.tcp: every connect to the control's own addresses failed (${f})` };
    } else if (tlsOk === false) {
      const f = tlsOwn[0]?.failure ?? '';
      siteDown = { step: 'tls_handshake', failure: f, evidence: `control.tls: every handshake to the control's own addresses failed (${f})` };
    } else if (http !== undefined && !httpOk) {
      const f = http.failure ?? '';
      siteDown = { step: 'http_request', failure: f, evidence: `control.http failed (${f || 'no response'})` };
    }
  }

  return {
    available,
    unavailableReason: control === null || control === undefined ? 'no control measurement attached' : failure,
    dnsOk,
    dnsFailure,
    addresses,
    asns,
    asnOf,
    tcpOk,
    tcpOkIps,
    tlsOk,
    tlsValid: available && validHandshakes.length > 0,
    tlsValidIps,
    leafSha256s,
    tls,
    http,
    httpOk,
    siteDown,
  };
}
