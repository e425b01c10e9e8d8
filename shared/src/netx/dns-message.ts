import { randomInt } from 'node:crypto';
import type * as DnsPacket from 'dns-packet';
import { failureForRcode } from '../classify-error.js';
import type { Failure } from '../failures.js';
import { lazyModule } from './lazy-module.js';
import type { DnsAnswerObservation, DnsQueryObservation, DnsResponseObservation } from './observations.js';

// Pure DNS message handling (RFC 1035 §4.1) over bytes, apart from socket I/O
// so edge cases are tested by feeding bytes.

/** The record types a lookup asks for. */
export type AddressQueryType = 'A' | 'AAAA';

// Loaded on the first message encoded or decoded (see lazy-module.ts).
const dnsPacket = lazyModule<typeof DnsPacket>('dns-packet');

// Answer types recorded: the addresses and the CNAME chain leading to them.
const RECORDED_TYPES: ReadonlySet<string> = new Set(['A', 'AAAA', 'CNAME']);

/** A random 16-bit message id (RFC 5452 §9.2: unpredictable ids). */
export function randomQueryId(): number {
  return randomInt(0, 0x10000);
}

/** Encode a recursive query for `hostname`. */
export function encodeDnsQuery(id: number, hostname: string, queryType: AddressQueryType): Buffer {
  const codec = dnsPacket();
  return codec.encode({
    type: 'query',
    id,
    flags: codec.RECURSION_DESIRED,
    questions: [{ type: queryType, name: hostname, class: 'IN' }],
  });
}

/**
 * Decode a response and describe it as a DnsResponse observation (`tMs` is
 * the caller's). Undefined when the bytes are not a DNS response at all.
 */
export function parseDnsResponse(bytes: Uint8Array, expectedId: number, tMs: number): DnsResponseObservation | undefined {
  const codec = dnsPacket();
  let packet: DnsPacket.DecodedPacket;
  try {
    packet = codec.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    return undefined;
  }
  if (packet.type !== 'response') return undefined;
  const flags = packet.flags ?? 0;
  const answers: DnsAnswerObservation[] = [];
  for (const answer of packet.answers ?? []) {
    if (!RECORDED_TYPES.has(answer.type)) continue;
    const data: unknown = (answer as { data?: unknown }).data;
    if (typeof data !== 'string') continue;
    answers.push({ answerType: answer.type, value: data, ttl: (answer as { ttl?: number }).ttl ?? 0 });
  }
  return {
    rcode: flags & 0x0f,
    answers,
    tMs,
    truncated: (flags & codec.TRUNCATED_RESPONSE) !== 0,
    idMatches: packet.id === expectedId,
  };
}

/**
 * The failure a stub resolver would report for this response to a
 * `queryType` query: the RCODE's failure, or `dns_no_answer` for NOERROR
 * without an address of that type (e.g. no AAAA); '' when it has one.
 */
export function failureForResponse(response: DnsResponseObservation, queryType: string): Failure | '' {
  const byRcode = failureForRcode(response.rcode);
  if (byRcode !== undefined) return byRcode;
  return response.answers.some((a) => a.answerType === queryType) ? '' : 'dns_no_answer';
}

/**
 * The addresses a query resolved to: those of the first response whose id
 * matched (what a stub resolver uses). With `allResponses`, the addresses of
 * every response, in order of arrival, without repeats (an injected answer
 * and the genuine one that followed it). Bogons are not judged here: that is
 * the verdict's job.
 */
export function dnsAddresses(query: Pick<DnsQueryObservation, 'responses' | 'queryType'>, options: { readonly allResponses?: boolean } = {}): string[] {
  const matching = query.responses.filter((r) => r.idMatches);
  const chosen = options.allResponses === true ? matching : matching.slice(0, 1);
  const out: string[] = [];
  for (const response of chosen) {
    for (const answer of response.answers) {
      if (answer.answerType === query.queryType && !out.includes(answer.value)) out.push(answer.value);
    }
  }
  return out;
}
