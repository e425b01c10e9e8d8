import type { steppe } from '@steppe/proto';
import type { Indexed } from './effective.js';
import { controlChallengeOf } from './challenges.js';
import { bodyBytesReceived, probeDownloadMs, probeThroughputBps } from './http-compare.js';
import { certificateSha256, commonNameOf, parseDerCertificate } from './interception-roots.js';
import {
  type Context,
  type Decision,
  failed,
  httpName,
  inconsistentDns,
  responseFingerprints,
  tcpName,
  tlsName,
  tlsValid,
  undetermined,
} from './rule-context.js';

/**
 * Differential rules: the probe's view against the control's, in step order
 * (docs/verdicts.md, "Precedence" 5).
 */

type HttpRequest = steppe.v1.HttpRequest.$Properties;

/** The `dns` blocking type of a resolution failure. */
export function dnsBlockingType(failure: string): string {
  switch (failure) {
    case 'dns_nxdomain_error': return 'dns_nxdomain';
    case 'dns_servfail_error': return 'dns_servfail';
    case 'generic_timeout_error': return 'dns_timeout';
    case 'dns_refused_error': return 'dns_refused';
    case 'dns_no_answer': return 'dns_no_answer';
    default: return 'dns_failure';
  }
}

/** The `tcp_ip` blocking type of a connect failure. */
export function tcpBlockingType(failure: string): string {
  switch (failure) {
    case 'connection_reset': return 'tcp_reset';
    case 'generic_timeout_error': return 'tcp_timeout';
    case 'connection_refused': return 'tcp_refused';
    case 'host_unreachable':
    case 'network_unreachable': return 'tcp_unreachable';
    default: return 'tcp_failure';
  }
}

function suffixFor(failure: string): string {
  switch (failure) {
    case 'connection_reset': return 'reset';
    case 'eof_error': return 'eof';
    case 'generic_timeout_error': return 'timeout';
    default: return 'failure';
  }
}

/**
 * What third-party resolvers answered while the system resolver failed:
 * evidence that they circumvent the blocking (and whether the page came
 * through them), never a reason to call the site accessible.
 */
function circumvention(ctx: Context): string[] {
  const answered = ctx.dns.thirdParty.filter((t) => t.addresses.length > 0);
  if (answered.length === 0) return [];
  const lines = answered.map((t) => `dns_queries[${t.queryIndex}] (third-party resolver ${t.resolver}) answered ${t.addresses.join(', ')}: not the resolver the volunteer's applications use; a third-party resolver circumvents the blocking`);
  const { final, comparison } = ctx;
  if (final !== undefined && !failed(final.value)) {
    lines.push(comparison !== undefined && !comparison.differs
      ? `${httpName(final)} fetched the page through it, matching control.http (status ${final.value.statusCode ?? 0})`
      : `${httpName(final)} got status ${final.value.statusCode ?? 0} through it`);
  }
  return lines;
}

export function dnsRule(ctx: Context): Decision | undefined {
  const { dns, control } = ctx;
  if (!dns.measured || dns.failure === '') return undefined;
  if (!control.dnsOk) return undetermined(`dns_queries[${dns.failureQueryIndex}] failed with ${dns.failure}; control.dns has no answers to compare with`);
  return {
    verdict: 'dns',
    blockingType: dnsBlockingType(dns.failure),
    evidence: [`dns_queries[${dns.failureQueryIndex}] failed with ${dns.failure} while control.dns resolved ${[...control.addresses].join(', ')}`, ...circumvention(ctx)],
  };
}

export function tcpRule(ctx: Context): Decision | undefined {
  const { tcp, control } = ctx;
  if (tcp.length === 0 || tcp.some((t) => !failed(t.value))) return undefined;
  const first = tcp[0];
  if (first === undefined) return undefined;
  const failure = first.value.failure ?? '';
  const sameIpOk = tcp.filter((t) => control.tcpOkIps.has(t.value.ip ?? ''));
  const summary = `every TCP connect failed (${tcp.map((t) => `${tcpName(t)}: ${t.value.failure ?? ''}`).join('; ')})`;
  if (ctx.consistency.state === 'inconsistent' && sameIpOk.length === 0) return inconsistentDns(ctx, summary);
  const reached = control.tcpOk ?? (sameIpOk.length > 0 || control.tlsOk === true || control.httpOk);
  if (!reached) return undetermined(`${summary}; the control has no TCP result to compare with`);
  const controlNote = sameIpOk.length > 0
    ? `control.tcp connected to the same address(es) ${sameIpOk.map((t) => t.value.ip ?? '').join(', ')}`
    : 'the control connected to its own addresses';
  return { verdict: 'tcp_ip', blockingType: tcpBlockingType(failure), evidence: [summary, controlNote] };
}

export function tlsRule(ctx: Context): Decision | undefined {
  const { tls, control, target } = ctx;
  if (tls.length === 0 || tls.some((t) => tlsValid(t.value))) return undefined;
  const controlValid = control.tlsValid || (target.https && control.httpOk);
  const completed = tls.filter((t) => !failed(t.value));
  if (completed.length > 0) {
    const foreign = completed.filter((t) => !control.leafSha256s.has(certificateSha256(t.value.peerCertificates?.[0] ?? new Uint8Array())));
    if (foreign.length === 0) {
      const t = completed[0];
      const why = `${t === undefined ? 'TLS' : tlsName(t)} presented the same leaf certificate as the control but did not validate (${t?.value.verificationError ?? ''})`;
      if (!control.tlsValid) return { verdict: 'down', evidence: [why, 'the control cannot validate it either: the site\'s certificate is broken for everyone'] };
      // A local trust-store problem, not interference: judge the later steps.
      ctx.notes.push(`${why}: a local trust-store problem, not interference`);
      return undefined;
    }
    const sameIp = foreign.find((t) => control.tlsValidIps.has(t.value.ip ?? ''));
    const t = sameIp ?? foreign[0];
    if (t === undefined) return undefined;
    const leaf = parseDerCertificate(t.value.peerCertificates?.[0] ?? new Uint8Array());
    const issuerCn = leaf === undefined ? '' : commonNameOf(leaf.issuer);
    const observed = `${tlsName(t)} completed with a chain not valid for ${target.domain} (${t.value.verificationError ?? ''}; leaf issued by "${issuerCn}")`;
    if (sameIp === undefined && ctx.consistency.state === 'inconsistent') return inconsistentDns(ctx, observed);
    if (sameIp === undefined && !controlValid) {
      return control.tls.length > 0 || control.httpOk
        ? { verdict: 'down', evidence: [observed, 'the control did not get a valid chain either'] }
        : undetermined(`${observed}; the control has no TLS result to compare with`);
    }
    return {
      verdict: 'interception',
      blockingType: 'tls_mitm',
      issuerCn,
      evidence: [
        observed,
        sameIp !== undefined
          ? `control.tls validated the chain of the same address ${t.value.ip ?? ''} (different leaf)`
          : 'the control validated the chain of the domain (different leaf)',
        'no known interception root in the chain: not confirmed',
      ],
    };
  }
  // Every handshake with the target SNI failed. An A/B test on the same
  // address with a benign SNI tells SNI filtering from IP blocking.
  for (const t of tls) {
    const ok = ctx.controlSniTls.find((c) => c.value.ip === t.value.ip && c.value.port === t.value.port && !failed(c.value));
    if (ok === undefined) continue;
    const failure = t.value.failure ?? '';
    return {
      verdict: 'tls',
      blockingType: `sni_${suffixFor(failure)}`,
      evidence: [`${tlsName(t)} failed with ${failure} after the ClientHello`, `${tlsName(ok)} to the same address completed: the SNI triggers it`],
    };
  }
  const summary = `every TLS handshake with SNI ${target.domain} failed (${tls.map((t) => `${tlsName(t)}: ${t.value.failure ?? ''}`).join('; ')})`;
  if (ctx.consistency.state === 'inconsistent') return inconsistentDns(ctx, summary);
  const reached = control.tlsOk ?? (controlValid || control.httpOk);
  if (!reached) return undetermined(`${summary}; the control has no TLS result to compare with`);
  const ab = ctx.controlSniTls.length > 0 ? 'handshakes with the control SNI failed too' : 'no control-SNI handshake to compare with';
  return { verdict: 'tls', blockingType: 'tls_failure', evidence: [summary, `the control completed its handshake; ${ab}`] };
}

function throttlingEvidence(ctx: Context, h: Indexed<HttpRequest>): Decision | undefined {
  const controlHttp = ctx.control.http;
  const ratio = ctx.throughputRatio;
  if (controlHttp === undefined || ratio === undefined || !ctx.control.httpOk) return undefined;
  const probeBytes = bodyBytesReceived(h.value);
  const controlBytes = controlHttp.bodyLength ?? 0;
  if (probeBytes < ctx.minBytes || controlBytes < ctx.minBytes || ratio >= ctx.ratioThreshold) return undefined;
  const downloadMs = probeDownloadMs(h.value);
  if (downloadMs < ctx.minDurationMs) return undefined;
  const bps = probeThroughputBps(h.value) ?? 0;
  return {
    verdict: 'throttled',
    blockingType: 'throttling',
    evidence: [
      `${httpName(h)} downloaded ${probeBytes} bytes in ${Math.round(downloadMs)} ms at ${Math.round(bps)} B/s, ${(ratio * 100).toFixed(1)}% of control.http's ${Math.round(controlHttp.throughputBps ?? 0)} B/s (threshold ${ctx.ratioThreshold * 100}%)`,
    ],
  };
}

export function httpRule(ctx: Context): Decision | undefined {
  const { final, control } = ctx;
  if (final === undefined) return undefined;
  if (failed(final.value)) {
    const failure = final.value.failure ?? '';
    const observed = `${httpName(final)} failed with ${failure}`;
    if (ctx.consistency.state === 'inconsistent') return inconsistentDns(ctx, observed);
    if (failure === 'generic_timeout_error') {
      const throttled = throttlingEvidence(ctx, final);
      if (throttled !== undefined) return { ...throttled, evidence: [...throttled.evidence, `${observed} while the body was still arriving`] };
    }
    if (!control.httpOk) return undetermined(`${observed}; the control has no HTTP result to compare with`);
    return {
      verdict: 'http-failure',
      blockingType: `http_${suffixFor(failure)}`,
      evidence: [observed, `control.http fetched it: status ${control.http?.statusCode ?? 0}, ${control.http?.bodyLength ?? 0} bytes`],
    };
  }
  const comparison = ctx.comparison;
  if (comparison === undefined) return undefined;
  if (comparison.differs) {
    const differs = `${httpName(final)} differs from control.http: ${comparison.reasons.join('; ')}`;
    const challenged = controlChallengeOf(control, ctx.reference);
    if (challenged !== undefined) {
      return {
        verdict: 'accessible',
        evidence: [differs, `control.http got a CDN challenge page (title ${JSON.stringify(control.http?.title ?? '')}, challenge fingerprint ${challenged.name}): the control never saw the page, so the probe's was not compared`],
      };
    }
    for (const h of ctx.chain) {
      const vague = responseFingerprints(h.value, ctx.reference).find((f) => f.strength === 'vague');
      if (vague !== undefined) {
        return {
          verdict: 'blockpage',
          blockingType: 'http_blockpage',
          fingerprintId: vague.name,
          evidence: [differs, `${httpName(h)} matches the vague blockpage fingerprint ${vague.name} (scope vbw): not confirmed`],
        };
      }
    }
    if (ctx.consistency.state === 'inconsistent') return inconsistentDns(ctx, differs);
    return { verdict: 'http-diff', blockingType: 'http_diff', evidence: [differs] };
  }
  return throttlingEvidence(ctx, final);
}
