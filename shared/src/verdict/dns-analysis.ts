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
  /**
   * What the third-party resolvers (queries with `third_party_resolver`)
   * answered, when the system resolver was asked too: evidence of
   * circumvention, never of accessibility.
   */
  readonly thirdParty: readonly ThirdPartyAnswer[];
}

/** One third-party resolver's answer to a query for the measured domain. */
export interface ThirdPartyAnswer {
  readonly queryIndex: number;
  readonly resolver: string;
  readonly addresses: readonly string[];
  readonly failure: string;
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

/** The addresses of a query's stub response and its failure. */
function answerOf(query: DnsQuery): { addresses: string[]; failure: string } {
  const addresses = (stubResponse(query)?.answers ?? [])
    .filter((a) => (a.answerType === 'A' || a.answerType === 'AAAA') && (a.value ?? '') !== '')
    .map((a) => a.value ?? '');
  return { addresses, failure: queryFailure(query, addresses.length) };
}

/**
 * Analyse the effective DNS queries for `domain`. The system resolver
 * decides: it is what every application on the volunteer's machine uses, so
 * its failure or tampering is DNS blocking whatever other resolvers say.
 * Queries to third-party resolvers (`third_party_resolver`) are set aside
 * when the system resolver was asked too, and reported in `thirdParty`; so
 * are queries over DoH when the system resolver was also asked over UDP/TCP
 * (records from before the flag: what censorship changes is the latter).
 * Injection (one query answered twice differently) counts on any UDP/TCP
 * query: no resolver does that, an on-path injector does.
 */
export function analyseDns(
  queries: readonly Indexed<DnsQuery>[],
  events: readonly NetworkEvent[],
  domain: string,
  labAddresses: readonly Cidr[],
): DnsFindings {
  const forDomain = queries.filter((q) => (q.value.hostname ?? '').toLowerCase().replace(/\.$/, '') === domain);
  const system = forDomain.filter((q) => q.value.thirdPartyResolver !== true);
  const own = system.length > 0 ? system : forDomain;
  const plain = own.filter((q) => q.value.transport !== DOH);
  const used = plain.length > 0 ? plain : own;
  const thirdParty = system.length > 0 ? forDomain.filter((q) => q.value.thirdPartyResolver === true) : [];
  const values: DnsValue[] = [];
  const addresses: string[] = [];
  let failure = '';
  let failureQueryIndex = -1;
  let injection: string | undefined;
  let multiResponse = false;

  for (const q of used) {
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
  }
  for (const q of [...used, ...thirdParty.filter((t) => t.value.transport !== DOH)]) {
    const responses = q.value.responses ?? [];
    if (responses.length > 1) {
      multiResponse = true;
      const distinct = new Set(responses.map(answerSet));
      if (distinct.size > 1 && injection === undefined) {
        const via = q.value.thirdPartyResolver === true ? ` via the third-party resolver ${q.value.resolver ?? ''}` : '';
        injection = `dns_queries[${q.index}] (${q.value.queryType ?? ''} ${domain}${via}) got ${responses.length} responses with different answers: ` +
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
    thirdParty: thirdParty.map((q) => ({ queryIndex: q.index, resolver: q.value.resolver ?? '', ...answerOf(q.value) })),
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
