import type { steppe } from '@steppe/proto';
import type { Operation } from '../failures.js';
import type { Cidr } from '../net/cidr.js';
import { BLOCKING_VERDICTS, type Verdict } from '../verdicts.js';
import { controlView } from './control-view.js';
import { type DnsFindings, analyseDns, dnsConsistency } from './dns-analysis.js';
import { type Indexed, effectiveObservations } from './effective.js';
import { dnsRule, httpRule, tcpRule, tlsRule } from './differential-rules.js';
import { THROTTLING_MIN_BYTES, THROTTLING_MIN_DURATION_MS, THROTTLING_RATIO, compareHttp, probeThroughputBps } from './http-compare.js';
import type { VerdictReference } from './reference.js';
import {
  type Context,
  type Decision,
  type Target,
  failed,
  httpName,
  inconsistentDns,
  normalizeUrl,
  tcpName,
  tlsName,
  tlsValid,
  undetermined,
} from './rule-context.js';
import { challengeRule } from './challenges.js';
import { redirectHopRule } from './redirect-hop.js';
import { blockpageRule, bogonRule, dnsFingerprintRule, injectionRule, interceptionRootRule } from './self-evident-rules.js';

/**
 * The verdict engine: a pure function of a measurement's observations, the
 * control's view of the same input, and reference data (fingerprints,
 * interception roots). docs/verdicts.md states every rule and the order in
 * which they are tried; this file follows that order.
 */

/** Version of the rules; bump it whenever a verdict for the same input could change. */
export const ENGINE_VERSION = '1.1.0';

type TcpConnect = steppe.v1.TcpConnect.$Properties;
type TlsHandshake = steppe.v1.TlsHandshake.$Properties;
type HttpRequest = steppe.v1.HttpRequest.$Properties;

/** Options of the verdict engine. */
export interface VerdictOptions {
  /**
   * Networks that serve the (lab's) Internet and so are not bogons, e.g.
   * 127.0.0.0/8 and 198.18.0.0/15 in the censorship lab. Never set in production.
   */
  readonly labAddresses?: readonly Cidr[];
  /** Minimum body size of both downloads for a throughput comparison (default THROTTLING_MIN_BYTES). */
  readonly throttlingMinBytes?: number;
  /** Probe/control throughput ratio below which the download is throttled (default THROTTLING_RATIO). */
  readonly throttlingRatio?: number;
  /** Minimum duration of the probe's download for a throughput comparison (default THROTTLING_MIN_DURATION_MS). */
  readonly throttlingMinDurationMs?: number;
}

/** What `verdictFor` analyses: the parts of a Measurement it reads. */
export interface VerdictMeasurement {
  readonly input?: string | null;
  readonly domain?: string | null;
  readonly observations?: steppe.v1.Observations.$Properties | null;
  readonly control?: steppe.v1.ControlMeasurement.$Properties | null;
}

/** Input of `verdictFor`. */
export interface VerdictInput {
  readonly measurement: VerdictMeasurement;
  readonly reference: VerdictReference;
  readonly options?: VerdictOptions;
}

/** ControlSummary with every field set. */
export interface ControlSummaryResult {
  controlOk: boolean;
  controlFailure: string;
  dnsConsistency: 'consistent' | 'inconsistent' | 'unknown';
  controlStatusCode: number;
  controlBodyLength: number;
  bodyProportion: number;
  statusCodeMatch: boolean;
  titleMatch: boolean;
  headersMatch: boolean;
  throughputRatio: number;
}

/**
 * An Analysis with every field set; assignable to
 * `steppe.v1.Analysis.$Properties`. `verdict` is '' (undetermined) when the
 * observations cannot say: no control to tell blocking from an outage, or the
 * probe's own egress policy refused the connection.
 */
export interface AnalysisResult {
  verdict: Verdict | '';
  blockingType: string;
  accessible: boolean;
  anomaly: boolean;
  confirmed: boolean;
  failure: string;
  failedStep: Operation | '';
  fingerprintId: string;
  interceptionIssuerCn: string;
  evidence: string[];
  controlSummary: ControlSummaryResult;
  engineVersion: string;
}

const BLOCKING: ReadonlySet<string> = new Set(BLOCKING_VERDICTS);

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

function targetOf(input: string, domain: string): Target {
  try {
    const url = new URL(input);
    const https = url.protocol === 'https:';
    const port = url.port !== '' ? Number(url.port) : https ? 443 : url.protocol === 'http:' ? 80 : undefined;
    return { domain: normalizeHost(domain !== '' ? domain : url.hostname), port, https };
  } catch {
    return { domain: normalizeHost(domain !== '' ? domain : input), port: undefined, https: false };
  }
}

/**
 * The redirect chain starting at the measured URL, as the probe followed it
 * (at most 11 requests): each hop is the request for the previous one's
 * `location`, URLs compared in one spelling (normalizeUrl).
 */
function httpChain(requests: readonly Indexed<HttpRequest>[], input: string): Indexed<HttpRequest>[] {
  if (requests.length === 0) return [];
  const start = requests.find((r) => normalizeUrl(r.value.url ?? '') === normalizeUrl(input)) ?? requests[0];
  if (start === undefined) return [];
  const chain = [start];
  let current = start;
  while (chain.length <= 10) {
    const location = current.value.location ?? '';
    if (location === '' || failed(current.value)) break;
    const target = normalizeUrl(location);
    const next = requests.find((r) => normalizeUrl(r.value.url ?? '') === target && !chain.includes(r));
    if (next === undefined) break;
    chain.push(next);
    current = next;
  }
  return chain;
}

/** The first step that failed, after retries: what `failure` and `failed_step` report. */
function firstFailingStep(
  dns: DnsFindings,
  countedBogons: DnsFindings['bogons'],
  tcp: readonly Indexed<TcpConnect>[],
  tls: readonly Indexed<TlsHandshake>[],
  final: Indexed<HttpRequest> | undefined,
): Context['firstFailure'] {
  if (dns.measured && dns.failure !== '') {
    return { step: 'dns', failure: dns.failure, evidence: `dns_queries[${dns.failureQueryIndex}] failed with ${dns.failure}` };
  }
  const bogon = countedBogons[0];
  if (bogon !== undefined) {
    return { step: 'dns', failure: 'dns_bogon_error', evidence: `dns_queries[${bogon.queryIndex}] answered the bogon ${bogon.value}` };
  }
  if (tcp.length > 0 && tcp.every((t) => failed(t.value))) {
    const t = tcp[0];
    if (t !== undefined) return { step: 'tcp_connect', failure: t.value.failure ?? '', evidence: `${tcpName(t)} failed with ${t.value.failure ?? ''}` };
  }
  if (tls.length > 0 && !tls.some((t) => tlsValid(t.value))) {
    const t = tls.find((h) => !failed(h.value)) ?? tls[0];
    if (t !== undefined) {
      const failure = (t.value.failure ?? '') || (t.value.verificationError ?? '');
      return { step: 'tls_handshake', failure, evidence: `${tlsName(t)} failed with ${failure}` };
    }
  }
  if (final !== undefined && failed(final.value)) {
    return { step: 'http_request', failure: final.value.failure ?? '', evidence: `${httpName(final)} failed with ${final.value.failure ?? ''}` };
  }
  return undefined;
}

/**
 * The control's resolver says the name does not exist, the probe's answered
 * anyway: ISPs that "hijack" NXDOMAIN answer with their own search or
 * advertising page. The site is down for everyone; what the probe reached
 * is the ISP's page, not the site, and not censorship of it.
 */
function nxdomainHijacking(ctx: Context): Decision | undefined {
  const { control, dns } = ctx;
  if (control.siteDown?.step !== 'dns' || control.dnsFailure !== 'dns_nxdomain_error' || dns.addresses.length === 0) return undefined;
  const where = ctx.final === undefined ? '' : `; ${httpName(ctx.final)} got status ${ctx.final.value.statusCode ?? 0} from it`;
  return {
    verdict: 'down',
    evidence: [
      `control.dns: the name does not exist (${control.dnsFailure})`,
      `the probe's resolver answered ${dns.addresses.join(', ')} anyway${where}: the ISP answers names that do not exist (NXDOMAIN hijacking), the site is down for everyone`,
    ],
  };
}

/** The rules in order of precedence (docs/verdicts.md). */
function decide(ctx: Context): Decision {
  const selfEvident = injectionRule(ctx) ?? dnsFingerprintRule(ctx) ?? bogonRule(ctx) ?? interceptionRootRule(ctx) ?? blockpageRule(ctx);
  if (selfEvident !== undefined) return selfEvident;

  const { control, firstFailure, final } = ctx;
  if (firstFailure !== undefined && (firstFailure.failure === 'blocked_by_policy' || firstFailure.failure === 'interrupted')) {
    return undetermined(`${firstFailure.evidence}: the probe's own ${firstFailure.failure === 'blocked_by_policy' ? 'egress policy (--allow-net)' : 'shutdown'} stopped the measurement, nothing was observed`);
  }
  if (!control.available) {
    const why = `no control (${control.unavailableReason}): blocking cannot be told from an outage, only self-evident evidence counts`;
    if (firstFailure !== undefined) return undetermined(`${firstFailure.evidence}; ${why}`);
    if (final !== undefined) {
      return challengeRule(ctx, `${why}; the page was not compared`) ??
        { verdict: 'accessible', evidence: [`${httpName(final)} got status ${final.value.statusCode ?? 0}`, `${why}; the page was not compared`] };
    }
    return ctx.dns.addresses.length > 0 || ctx.tcp.length > 0
      ? { verdict: 'accessible', evidence: [`no step failed; ${why}`] }
      : undetermined('no observations');
  }
  if (control.siteDown !== undefined) {
    if (firstFailure !== undefined) {
      return { verdict: 'down', evidence: [firstFailure.evidence, `${control.siteDown.evidence}: the site fails for the control too`] };
    }
    const hijacked = nxdomainHijacking(ctx);
    if (hijacked !== undefined) return hijacked;
    const why = `${control.siteDown.evidence}, so nothing was compared`;
    return challengeRule(ctx, why) ?? { verdict: 'accessible', evidence: [`the probe completed every step; ${why}`] };
  }
  const differential = dnsRule(ctx) ?? tcpRule(ctx) ?? tlsRule(ctx) ?? redirectHopRule(ctx) ?? challengeRule(ctx) ?? httpRule(ctx);
  if (differential !== undefined) return differential;

  const fetched = final !== undefined && !failed(final.value);
  if (firstFailure !== undefined && !fetched) return undetermined(`${firstFailure.evidence}; no rule explains it`);
  if (final === undefined && ctx.consistency.state === 'inconsistent') {
    return inconsistentDns(ctx, 'no later step shows whether the answers lead to the site');
  }
  if (final === undefined && ctx.dns.addresses.length === 0 && ctx.tcp.length === 0) return undetermined('no observations');
  const notes: string[] = [];
  if (final !== undefined) {
    notes.push(ctx.comparison === undefined
      ? `${httpName(final)} got status ${final.value.statusCode ?? 0}; control.http has no response to compare with`
      : `${httpName(final)} matches control.http (status ${final.value.statusCode ?? 0}, body proportion ${ctx.comparison.bodyProportion.toFixed(2)})`);
  }
  if (ctx.consistency.state === 'inconsistent') {
    notes.push(ctx.comparison === undefined
      ? `DNS ${ctx.consistency.reason}, but the page was fetched`
      : `DNS ${ctx.consistency.reason}, but the page matches the control: regional DNS, not tampering`);
  }
  return { verdict: 'accessible', evidence: notes.length > 0 ? notes : ['no step failed'] };
}

/**
 * Analyse one measurement: its observations against the control and the
 * reference data. Pure: the same input always gives the same analysis, so an
 * imported or old measurement can be re-analysed with newer rules or data.
 */
export function verdictFor(input: VerdictInput): AnalysisResult {
  const m = input.measurement;
  const options = input.options ?? {};
  const target = targetOf(m.input ?? '', m.domain ?? '');
  const eff = effectiveObservations(m.observations);
  const control = controlView(m.control);
  const dns = analyseDns(eff.dns, m.observations?.networkEvents ?? [], target.domain, options.labAddresses ?? []);
  // A bogon the control also got is the site's own (mis)configuration.
  const controlBogons = dns.bogons.filter((b) => control.addresses.has(b.value));
  const countedBogons = controlBogons.length > 0 ? [] : dns.bogons;

  const onTarget = (ip: string, port: number | null | undefined): boolean =>
    (dns.addresses.length === 0 || dns.addresses.includes(ip)) && (target.port === undefined || port === target.port);
  const tcp = eff.tcp.filter((t) => onTarget(t.value.ip ?? '', t.value.port));
  const tls = eff.tls.filter((t) => t.value.controlSni !== true && normalizeHost(t.value.serverName ?? '') === target.domain && onTarget(t.value.ip ?? '', t.value.port));
  const controlSniTls = eff.tls.filter((t) => t.value.controlSni === true);
  const consistency = dnsConsistency(dns, control, tls);
  const chain = httpChain(eff.http, m.input ?? '');
  const final = chain[chain.length - 1];
  const comparison = final !== undefined && !failed(final.value) && control.httpOk && control.http !== undefined
    ? compareHttp(final.value, control.http)
    : undefined;
  const controlBps = control.http?.throughputBps ?? 0;
  const probeBps = final === undefined ? undefined : probeThroughputBps(final.value);
  const throughputRatio = probeBps !== undefined && controlBps > 0 && control.httpOk ? probeBps / controlBps : undefined;

  const ctx: Context = {
    target,
    reference: input.reference,
    control,
    dns,
    countedBogons,
    consistency,
    eff,
    tcp,
    tls,
    controlSniTls,
    chain,
    final,
    comparison,
    throughputRatio,
    minBytes: options.throttlingMinBytes ?? THROTTLING_MIN_BYTES,
    ratioThreshold: options.throttlingRatio ?? THROTTLING_RATIO,
    minDurationMs: options.throttlingMinDurationMs ?? THROTTLING_MIN_DURATION_MS,
    firstFailure: firstFailingStep(dns, countedBogons, tcp, tls, final),
    labAddresses: options.labAddresses ?? [],
    notes: [],
  };
  const decision = decide(ctx);
  const evidence = [...eff.retries, ...decision.evidence, ...ctx.notes];
  if (controlBogons[0] !== undefined) {
    evidence.push(`dns_queries[${controlBogons[0].queryIndex}] answered the bogon ${controlBogons[0].value}, which control.dns also got: the site's own DNS, not tampering`);
  }
  const verdict = decision.verdict;
  const http = control.http;
  return {
    verdict,
    blockingType: decision.blockingType ?? '',
    accessible: verdict === 'accessible',
    anomaly: BLOCKING.has(verdict),
    confirmed: BLOCKING.has(verdict) && decision.confirmed === true,
    // An accessible site had no failing step that mattered (e.g. a local
    // trust-store error on a certificate the control also got).
    failure: verdict === 'accessible' ? '' : decision.failedAt?.failure ?? ctx.firstFailure?.failure ?? '',
    failedStep: verdict === 'accessible' ? '' : decision.failedAt?.step ?? ctx.firstFailure?.step ?? '',
    fingerprintId: decision.fingerprintId ?? '',
    interceptionIssuerCn: decision.issuerCn ?? '',
    evidence,
    controlSummary: {
      controlOk: control.available,
      controlFailure: m.control?.failure ?? '',
      dnsConsistency: consistency.state,
      controlStatusCode: http?.statusCode ?? 0,
      controlBodyLength: http?.bodyLength ?? 0,
      bodyProportion: comparison?.bodyProportion ?? 0,
      statusCodeMatch: comparison?.statusCodeMatch ?? false,
      titleMatch: comparison === undefined ? false : comparison.titleMatch !== false,
      headersMatch: comparison === undefined ? false : comparison.headersMatch !== false,
      throughputRatio: throughputRatio ?? 0,
    },
    engineVersion: ENGINE_VERSION,
  };
}
