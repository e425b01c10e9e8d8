import type { steppe } from '@steppe/proto';
import type { Operation } from '../failures.js';
import type { Cidr } from '../net/cidr.js';
import type { Verdict } from '../verdicts.js';
import type { ControlView } from './control-view.js';
import type { DnsConsistency, DnsFindings } from './dns-analysis.js';
import type { EffectiveObservations, Indexed } from './effective.js';
import { type Fingerprint, decodeBody, matchHttpFingerprints } from './fingerprints.js';
import type { HttpComparison } from './http-compare.js';
import type { VerdictReference } from './reference.js';

/** What the rules share: the measurement reduced once, and the shape of a rule's answer. */

type TcpConnect = steppe.v1.TcpConnect.$Properties;
type TlsHandshake = steppe.v1.TlsHandshake.$Properties;
type HttpRequest = steppe.v1.HttpRequest.$Properties;

/** A rule's answer. */
export interface Decision {
  readonly verdict: Verdict | '';
  readonly blockingType?: string;
  readonly confirmed?: boolean;
  readonly fingerprintId?: string;
  readonly issuerCn?: string;
  /** The failing step the verdict rests on when it is not the measured URL's own (a redirect hop's). */
  readonly failedAt?: { readonly step: Operation; readonly failure: string };
  readonly evidence: readonly string[];
}

/** The measured URL. */
export interface Target {
  readonly domain: string;
  readonly port: number | undefined;
  readonly https: boolean;
}

/** Everything the rules read, computed once per measurement. */
export interface Context {
  readonly target: Target;
  readonly reference: VerdictReference;
  readonly control: ControlView;
  readonly dns: DnsFindings;
  readonly countedBogons: DnsFindings['bogons'];
  readonly consistency: DnsConsistency;
  readonly eff: EffectiveObservations;
  readonly tcp: readonly Indexed<TcpConnect>[];
  readonly tls: readonly Indexed<TlsHandshake>[];
  readonly controlSniTls: readonly Indexed<TlsHandshake>[];
  readonly chain: readonly Indexed<HttpRequest>[];
  readonly final: Indexed<HttpRequest> | undefined;
  readonly comparison: HttpComparison | undefined;
  readonly throughputRatio: number | undefined;
  readonly minBytes: number;
  readonly ratioThreshold: number;
  readonly minDurationMs: number;
  readonly firstFailure: { readonly step: Operation; readonly failure: string; readonly evidence: string } | undefined;
  /** Networks that count as public (the lab switch, VerdictOptions.labAddresses). */
  readonly labAddresses: readonly Cidr[];
  /** Extra evidence collected by rules that did not decide. */
  readonly notes: string[];
}

/**
 * A URL in one spelling, to tell whether two name the same resource: OONI's
 * Go probes write a redirect to an empty path without the "/" (and keep
 * default ports) where WHATWG parsing adds or drops them. The fragment never
 * reaches the server, so it is dropped too.
 */
export function normalizeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.hash = '';
    return parsed.href;
  } catch {
    return url;
  }
}

/** Lowercase hex of bytes ('' for none). */
export function hex(bytes: Uint8Array | null | undefined): string {
  return bytes === null || bytes === undefined || bytes.length === 0 ? '' : Buffer.from(bytes).toString('hex');
}

/** The observation recorded a failure. */
export function failed(o: { failure?: string | null }): boolean {
  return (o.failure ?? '') !== '';
}

/** The handshake completed with a chain valid for its server name. */
export function tlsValid(t: TlsHandshake): boolean {
  return !failed(t) && (t.verificationError ?? '') === '';
}

/** How evidence names an observation: its array and index, and what it was. */
export const tcpName = (t: Indexed<TcpConnect>): string => `tcp_connects[${t.index}] (${t.value.ip ?? ''}:${t.value.port ?? 0})`;
export const tlsName = (t: Indexed<TlsHandshake>): string =>
  `tls_handshakes[${t.index}] (${t.value.controlSni === true ? 'control SNI' : 'SNI'} ${t.value.serverName ?? ''} to ${t.value.ip ?? ''}:${t.value.port ?? 0})`;
export const httpName = (h: Indexed<HttpRequest>): string => `http_requests[${h.index}] (${h.value.url ?? ''})`;

/** A decision that no verdict can be given, and why. */
export function undetermined(reason: string): Decision {
  return { verdict: '', evidence: [reason] };
}

/** `dns/dns_inconsistent`: the answers differ from the control's and what followed broke or differed. */
export function inconsistentDns(ctx: Context, downstream: string): Decision {
  return {
    verdict: 'dns',
    blockingType: 'dns_inconsistent',
    evidence: [`DNS ${ctx.consistency.reason}`, downstream],
  };
}

// The fingerprints that can matter (false-positive rows never do), per
// reference list, computed once.
const usable = new WeakMap<readonly Fingerprint[], readonly Fingerprint[]>();

function usableFingerprints(all: readonly Fingerprint[]): readonly Fingerprint[] {
  let list = usable.get(all);
  if (list === undefined) {
    list = all.filter((f) => f.strength !== 'false_positive');
    usable.set(all, list);
  }
  return list;
}

/** Every strong or vague HTTP fingerprint matching one response (`fp` rows are never blockpages). */
export function responseFingerprints(h: HttpRequest, reference: VerdictReference): Fingerprint[] {
  return matchResponse(h, usableFingerprints(reference.httpFingerprints));
}

/** Every fingerprint of `fingerprints` (any strength) matching one response: body, headers and its redirect target. */
export function matchResponse(h: HttpRequest, fingerprints: readonly Fingerprint[]): Fingerprint[] {
  const recorded = h.responseHeaders ?? [];
  // The redirect target is also kept in its own field; match it as the
  // Location header even when the selected headers left it out.
  const location = h.location ?? '';
  const headers = location !== '' && !recorded.some((x) => (x.name ?? '').toLowerCase() === 'location')
    ? [...recorded, { name: 'location', value: location }]
    : recorded;
  const contentType = headers.find((x) => (x.name ?? '').toLowerCase() === 'content-type')?.value ?? '';
  const prefix = h.bodyPrefix ?? new Uint8Array();
  const body = prefix.length > 0 ? decodeBody(prefix, contentType) : '';
  const complete = h.bodyTruncated !== true && prefix.length >= (h.bodyLength ?? 0);
  return matchHttpFingerprints(fingerprints, { body, bodyComplete: complete, headers });
}
