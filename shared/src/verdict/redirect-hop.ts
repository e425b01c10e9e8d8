import type { steppe } from '@steppe/proto';
import type { Operation } from '../failures.js';
import { ipToBytes } from '../net/cidr.js';
import { dnsBlockingType, tcpBlockingType } from './differential-rules.js';
import { analyseDns } from './dns-analysis.js';
import type { Indexed } from './effective.js';
import { type Context, type Decision, failed, httpName, inconsistentDns, normalizeUrl, tcpName, tlsName, undetermined } from './rule-context.js';

/**
 * Which step failed after a redirect (docs/verdicts.md, "Redirects"). When
 * a site redirects and the next hop fails, the last response the probe got
 * is the redirect itself: comparing it with the control's final page would
 * call any failure a page difference. The verdict is typed instead by the
 * step of the hop that failed: its name did not resolve, its connects
 * failed, its TLS handshakes failed. A failed request on the hop is left to
 * the HTTP rules, which judge the final request (throttling included).
 */

type HttpRequest = steppe.v1.HttpRequest.$Properties;

// Failures that only a connect produces: the hop's request never reached a server.
const CONNECT_FAILURES: ReadonlySet<string> = new Set([
  'connection_refused', 'host_unreachable', 'network_unreachable', 'address_not_available', 'address_family_not_supported',
]);

/** The hop after the last redirect, when the chain did not reach a page. */
interface UnfinishedHop {
  readonly url: string;
  /** The response that redirected to it. */
  readonly from: Indexed<HttpRequest>;
  /** Its own request, when one was made (and failed). */
  readonly request: Indexed<HttpRequest> | undefined;
}

interface HopStep {
  readonly step: Exclude<Operation, 'http_request'>;
  readonly failure: string;
  readonly evidence: string;
}

function unfinishedHop(ctx: Context): UnfinishedHop | undefined {
  const { chain, final } = ctx;
  if (final === undefined) return undefined;
  if (failed(final.value)) {
    const from = chain[chain.length - 2];
    return from === undefined ? undefined : { url: final.value.url ?? '', from, request: final };
  }
  const location = final.value.location ?? '';
  if (location === '') return undefined;
  // The chain ends at a redirect whose target was never requested (its
  // name, connect or handshake failed first: OONI then records no request).
  if (ctx.eff.http.some((r) => normalizeUrl(r.value.url ?? '') === normalizeUrl(location))) return undefined;
  return { url: location, from: final, request: undefined };
}

function bareHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
}

/** The step of `hop` that failed, from its own observations (DNS, TCP, TLS) or its request's failure. */
function failedStepOf(ctx: Context, hop: UnfinishedHop): HopStep | undefined {
  let url: URL;
  try {
    url = new URL(hop.url);
  } catch {
    return undefined;
  }
  const host = bareHost(url.hostname);
  const https = url.protocol === 'https:';
  const port = url.port !== '' ? Number(url.port) : https ? 443 : 80;
  const literal = ipToBytes(host) !== undefined;
  let addresses = literal ? [host] : ctx.dns.addresses;
  if (!literal && host !== ctx.target.domain) {
    const dns = analyseDns(ctx.eff.dns, [], host, ctx.labAddresses);
    if (dns.measured && dns.failure !== '') {
      return { step: 'dns', failure: dns.failure, evidence: `dns_queries[${dns.failureQueryIndex}] (${host}) failed with ${dns.failure}` };
    }
    addresses = dns.measured ? dns.addresses : [];
  }
  const request = hop.request;
  const requestFailure = request?.value.failure ?? '';
  if (request !== undefined && requestFailure.startsWith('dns_')) {
    return { step: 'dns', failure: requestFailure, evidence: `${httpName(request)} failed with ${requestFailure}: ${host} did not resolve` };
  }
  const onHop = (ip: string, p: number | null | undefined): boolean => p === port && (addresses.length === 0 || addresses.includes(ip));
  const tcp = ctx.eff.tcp.filter((t) => onHop(t.value.ip ?? '', t.value.port));
  const firstTcp = tcp[0];
  if (firstTcp !== undefined && tcp.every((t) => failed(t.value))) {
    return {
      step: 'tcp_connect',
      failure: firstTcp.value.failure ?? '',
      evidence: `every TCP connect to ${host}:${port} failed (${tcp.map((t) => `${tcpName(t)}: ${t.value.failure ?? ''}`).join('; ')})`,
    };
  }
  if (https) {
    const tls = ctx.eff.tls.filter((t) => t.value.controlSni !== true && bareHost(t.value.serverName ?? '') === host && onHop(t.value.ip ?? '', t.value.port));
    const firstTls = tls[0];
    if (firstTls !== undefined && tls.every((t) => failed(t.value))) {
      return {
        step: 'tls_handshake',
        failure: firstTls.value.failure ?? '',
        evidence: `every TLS handshake with SNI ${host} failed (${tls.map((t) => `${tlsName(t)}: ${t.value.failure ?? ''}`).join('; ')})`,
      };
    }
  }
  // The probe's own hops: the request carries the failure of whichever step it reached.
  if (request !== undefined && (request.value.statusCode ?? 0) === 0 && CONNECT_FAILURES.has(requestFailure)) {
    return { step: 'tcp_connect', failure: requestFailure, evidence: `${httpName(request)} could not connect to ${host}:${port} (${requestFailure})` };
  }
  if (request !== undefined && requestFailure.startsWith('ssl_')) {
    return { step: 'tls_handshake', failure: requestFailure, evidence: `${httpName(request)} failed in the TLS handshake with ${host} (${requestFailure})` };
  }
  return undefined;
}

/**
 * The verdict of a redirect chain whose next hop failed at DNS, TCP or TLS,
 * while the control followed the same redirects to the page.
 */
export function redirectHopRule(ctx: Context): Decision | undefined {
  const hop = unfinishedHop(ctx);
  if (hop === undefined) return undefined;
  const step = failedStepOf(ctx, hop);
  if (step === undefined) return undefined;
  const failedAt = { step: step.step, failure: step.failure };
  const observed = `${httpName(hop.from)} redirected to ${hop.url}, and that hop failed at ${step.step}: ${step.evidence}`;
  if (ctx.consistency.state === 'inconsistent') return { ...inconsistentDns(ctx, observed), failedAt };
  if (!ctx.control.httpOk) return { ...undetermined(`${observed}; the control has no HTTP result to compare with`), failedAt };
  const http = ctx.control.http;
  const controlNote = `control.http followed the redirects to the page: status ${http?.statusCode ?? 0}, ${Number(http?.bodyLength ?? 0)} bytes`;
  const evidence = [observed, controlNote];
  switch (step.step) {
    case 'dns':
      return { verdict: 'dns', blockingType: dnsBlockingType(step.failure), failedAt, evidence };
    case 'tcp_connect':
      return { verdict: 'tcp_ip', blockingType: tcpBlockingType(step.failure), failedAt, evidence };
    case 'tls_handshake':
      // No handshake with a benign SNI to the hop's address to compare with: the SNI cannot be singled out.
      return { verdict: 'tls', blockingType: 'tls_failure', failedAt, evidence };
  }
}
