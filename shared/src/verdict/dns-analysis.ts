import { steppe } from '@steppe/proto';
import type { Cidr } from '../net/cidr.js';
import { isBogon } from '../net/bogons.js';
import type { Indexed } from './effective.js';
import type { ControlView } from './control-view.js';

/**
 * What the probe's DNS queries for the measured domain show: the addresses
 * it would have connected to, resolution failure, bogons, injected duplicate
 * responses, and consistency with the control.
 */

type DnsQuery = steppe.v1.DnsQuery.$Properties;
type DnsResponse = steppe.v1.DnsResponse.$Properties;
type NetworkEvent = steppe.v1.NetworkEvent.$Properties;
type TlsHandshake = steppe.v1.TlsHandshake.$Properties;

/** DNS rcodes (RFC 1035 §4.1.1, RFC 6895) mapped to the failure vocabulary. */
const RCODE_FAILURE: Readonly<Record<number, string>> = {
  1: 'dns_format_error',
  2: 'dns_servfail_error',
  3: 'dns_nxdomain_error',
  4: 'dns_non_recoverable_failure',
  5: 'dns_refused_error',
};

/** An address or name from a DNS answer, and the query it came from. */
export interface DnsValue {
  readonly value: string;
  readonly type: string;
  readonly queryIndex: number;
}

/** Findings of the DNS step. */
export interface DnsFindings {
  /** Queries for the measured domain were made. */
  readonly measured: boolean;
  /** Unique A/AAAA addresses of the first response to each query. */
  readonly addresses: readonly string[];
  /** Every answer value (addresses and CNAME targets) of the first responses. */
  readonly values: readonly DnsValue[];
  /** Resolution failure when no query yielded an address ('' otherwise). */
  readonly failure: string;
  readonly failureQueryIndex: number;
  /** Answers inside bogon ranges (lab addresses excepted). */
  readonly bogons: readonly DnsValue[];
  /** Evidence of on-path injection, or undefined. */
  readonly injection: string | undefined;
}

const DOH = steppe.v1.DnsTransport.DNS_TRANSPORT_DOH;

function answerSet(response: DnsResponse): string {
  const values = (response.answers ?? []).map((a) => `${a.answerType ?? ''}:${(a.value ?? '').toLowerCase()}`).sort();
  return `${response.rcode ?? 0}|${values.join(',')}`;
}

/**
 * The response a stub resolver would have used: the first whose id matched
 * the query's. Records that never set `id_matches` (imports) use the first
 * response, unless the query failed with a wrong id.
 */
function stubResponse(query: DnsQuery): DnsResponse | undefined {
  const responses = query.responses ?? [];
  const matching = responses.find((r) => r.idMatches === true);
  if (matching !== undefined) return matching;
  if (query.failure === 'dns_reply_with_wrong_query_id') return undefined;
  return responses[0];
}

function queryFailure(query: DnsQuery, addresses: number): string {
  const failure = query.failure ?? '';
  // A probe may flag bogon answers itself; bogons are judged here (with the
  // lab switch), so such a query still resolved.
  if (failure !== '' && failure !== 'dns_bogon_error') return failure;
  const rcode = stubResponse(query)?.rcode ?? 0;
  const byRcode = RCODE_FAILURE[rcode];
  if (byRcode !== undefined) return byRcode;
  return addresses === 0 ? 'dns_no_answer' : '';
}

/**
 * Analyse the effective DNS queries for `domain`. Queries over DoH (the
 * probe's optional trusted resolver) are left out when the probe also asked
 * its own resolver over UDP/TCP: what censorship changes is the latter.
 */
export function analyseDns(
  queries: readonly Indexed<DnsQuery>[],
  events: readonly NetworkEvent[],
  domain: string,
  labAddresses: readonly Cidr[],
): DnsFindings {
  const forDomain = queries.filter((q) => (q.value.hostname ?? '').toLowerCase().replace(/\.$/, '') === domain);
  const plain = forDomain.filter((q) => q.value.transport !== DOH);
  const used = plain.length > 0 ? plain : forDomain;
  const values: DnsValue[] = [];
  const addresses: string[] = [];
  let failure = '';
  let failureQueryIndex = -1;
  let injection: string | undefined;
  let multiResponse = false;

  for (const q of used) {
    const responses = q.value.responses ?? [];
    const first = stubResponse(q.value);
    let count = 0;
    for (const a of first?.answers ?? []) {
      const type = a.answerType ?? '';
      const value = a.value ?? '';
      if (value === '') continue;
      values.push({ value, type, queryIndex: q.index });
      if (type === 'A' || type === 'AAAA') {
        count += 1;
        if (!addresses.includes(value)) addresses.push(value);
      }
    }
    const f = queryFailure(q.value, count);
    // Prefer the most telling failure: an explicit error over "no answer"
    // (an AAAA query often has no answer on an IPv4-only site).
    if (f !== '' && (failure === '' || (failure === 'dns_no_answer' && f !== 'dns_no_answer'))) {
      failure = f;
      failureQueryIndex = q.index;
    }
    if (responses.length > 1) {
      multiResponse = true;
      const distinct = new Set(responses.map(answerSet));
      if (distinct.size > 1 && injection === undefined) {
        injection = `dns_queries[${q.index}] (${q.value.queryType ?? ''} ${domain}) got ${responses.length} responses with different answers: ` +
          responses.map((r) => `[${(r.answers ?? []).map((a) => a.value ?? '').join(' ') || `rcode ${r.rcode ?? 0}`}]`).join(' vs ');
      }
    }
  }
  if (injection === undefined && !multiResponse) {
    const eventIndex = events.findIndex((e) => e.kind === 'dns_duplicate_response');
    const event = events[eventIndex];
    if (event !== undefined) {
      injection = `network_events[${eventIndex}] dns_duplicate_response: ${event.detail ?? ''}`.trim();
    }
  }
  const bogons = values.filter((v) => (v.type === 'A' || v.type === 'AAAA') && isBogon(v.value, { allow: labAddresses }));
  return {
    measured: used.length > 0,
    addresses,
    values,
    failure: addresses.length > 0 ? '' : failure || (used.length > 0 ? 'dns_no_answer' : ''),
    failureQueryIndex: addresses.length > 0 ? -1 : failureQueryIndex,
    bogons,
    injection,
  };
}

/** DNS consistency with the control, and why. */
export interface DnsConsistency {
  readonly state: 'consistent' | 'inconsistent' | 'unknown';
  readonly reason: string;
}

/**
 * The probe's answers are consistent with the control's when they share an
 * address, or a known ASN (AS0 is unknown and never matches: in the lab every
 * address is AS0), or when one of the probe's addresses completed a TLS
 * handshake valid for the domain (a CDN answering differently per region
 * still serves the right certificate).
 */
export function dnsConsistency(
  findings: DnsFindings,
  control: ControlView,
  targetHandshakes: readonly Indexed<TlsHandshake>[],
): DnsConsistency {
  if (!findings.measured || findings.addresses.length === 0) {
    return { state: 'unknown', reason: 'the probe resolved no address' };
  }
  const shared = findings.addresses.find((a) => control.addresses.has(a));
  if (control.dnsOk && shared !== undefined) {
    return { state: 'consistent', reason: `address ${shared} is also in control.dns` };
  }
  if (control.dnsOk) {
    for (const a of findings.addresses) {
      const asn = control.asnOf.get(a);
      if (asn !== undefined && control.asns.has(asn)) {
        return { state: 'consistent', reason: `address ${a} is in AS${asn}, like the control's answers (control.probe_addresses)` };
      }
    }
  }
  const valid = targetHandshakes.find(
    (t) => findings.addresses.includes(t.value.ip ?? '') && (t.value.failure ?? '') === '' && (t.value.verificationError ?? '') === '',
  );
  if (valid !== undefined) {
    return { state: 'consistent', reason: `tls_handshakes[${valid.index}] to ${valid.value.ip ?? ''} completed with a chain valid for the domain` };
  }
  if (!control.dnsOk) return { state: 'unknown', reason: 'no control DNS answers to compare with' };
  return {
    state: 'inconsistent',
    reason: `answers ${findings.addresses.join(', ')} share no address or known ASN with control.dns (${[...control.addresses].join(', ')})`,
  };
}
