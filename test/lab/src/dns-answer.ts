import dnsPacket from 'dns-packet';
import { DEFAULT_INJECT_DELAY_MS } from './behaviours.js';
import type { CensorRule } from './censor.js';
import type { LabAction } from './event-log.js';

/**
 * What the lab's resolver sends back for one query: pure, so every censor
 * behaviour is tested on bytes. Wire format: RFC 1035 §4.1 (header, question,
 * resource records); RCODEs 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED.
 */

/** One reply to send, `delayMs` after the query arrived. */
export interface DnsReply {
  readonly delayMs: number;
  readonly bytes: Buffer;
}

/** The resolver's decision for one query. */
export interface DnsPlan {
  readonly action: LabAction;
  /** Query name (lower case, no trailing dot), '' when the query could not be read. */
  readonly name: string;
  /** Query type, e.g. "A". */
  readonly type: string;
  /** Replies in the order to send them; empty for silence. */
  readonly replies: readonly DnsReply[];
}

/** What the plan depends on besides the query. */
export interface DnsContext {
  /** name → IPv4 address of every lab host. */
  readonly zone: ReadonlyMap<string, string>;
  /** The censor's rule for this name and source, if any (dns or network stage). */
  readonly rule: CensorRule | undefined;
  /** Default forged address (the blockpage server). */
  readonly blockpageAddress: string;
  readonly transport: 'udp' | 'tcp';
}

/** TTL of honest answers. */
export const HONEST_TTL = 300;
/** TTL of forged answers (censors' forgeries often carry short or odd TTLs). */
export const FORGED_TTL = 60;

const RCODE_NOERROR = 0;
const RCODE_FORMERR = 1;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_REFUSED = 5;
const FLAG_RD = 0x0100;

interface Query {
  readonly id: number;
  readonly rd: boolean;
  readonly name: string;
  readonly type: dnsPacket.RecordType;
  readonly question: dnsPacket.Question;
}

function encode(query: Query, rcode: number, address: string | undefined, ttl: number): Buffer {
  const answers: dnsPacket.Answer[] = address === undefined ? [] : [{ type: 'A', class: 'IN', name: query.question.name, ttl, data: address }];
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    // RD echoed (RFC 1035 §4.1.1), RA set: the lab plays a recursive resolver.
    flags: (query.rd ? dnsPacket.RECURSION_DESIRED : 0) | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: [query.question],
    answers,
  });
}

function honest(query: Query, zone: ReadonlyMap<string, string>): { bytes: Buffer; action: LabAction } {
  const address = zone.get(query.name);
  if (address === undefined) return { bytes: encode(query, RCODE_NXDOMAIN, undefined, 0), action: 'nxdomain' };
  // The lab has no IPv6 hosts: AAAA and other types get NOERROR with no data.
  const wantsA = query.type === 'A' || (query.type as string) === 'ANY';
  return { bytes: encode(query, RCODE_NOERROR, wantsA ? address : undefined, HONEST_TTL), action: 'answer' };
}

/** A FORMERR reply to bytes that carry a DNS header but no readable question; undefined if not even that. */
function formatError(bytes: Buffer): Buffer | undefined {
  if (bytes.length < 12) return undefined;
  if ((bytes[2] ?? 0) & 0x80) return undefined; // a response, not a query: never answer it
  const header = Buffer.alloc(12);
  bytes.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8000 | (((bytes[2] ?? 0) & 0x01) << 8) | 0x0080 | RCODE_FORMERR, 2);
  return header;
}

function readQuery(bytes: Buffer): Query | undefined {
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(bytes);
  } catch {
    return undefined;
  }
  const question = packet.questions?.[0];
  if (packet.type !== 'query' || question === undefined || typeof question.name !== 'string') return undefined;
  return {
    id: packet.id ?? 0,
    rd: ((packet.flags ?? 0) & FLAG_RD) !== 0,
    name: question.name.toLowerCase().replace(/\.$/, ''),
    type: question.type,
    question,
  };
}

/** Decide what to send back for `bytes`, one DNS query. */
export function planDnsReply(bytes: Buffer, context: DnsContext): DnsPlan {
  const query = readQuery(bytes);
  if (query === undefined) {
    const reply = formatError(bytes);
    return { action: 'formerr', name: '', type: '', replies: reply === undefined ? [] : [{ delayMs: 0, bytes: reply }] };
  }
  const base = { name: query.name, type: query.type };
  const behaviour = context.rule?.behaviour;
  const isA = query.type === 'A';
  switch (behaviour?.kind) {
    case undefined:
      break;
    case 'shutdown':
      return { ...base, action: 'shutdown', replies: [] };
    case 'dns-timeout':
      return { ...base, action: 'timeout', replies: [] };
    case 'dns-nxdomain':
      return { ...base, action: 'nxdomain', replies: [{ delayMs: 0, bytes: encode(query, RCODE_NXDOMAIN, undefined, 0) }] };
    case 'dns-servfail':
      return { ...base, action: 'servfail', replies: [{ delayMs: 0, bytes: encode(query, RCODE_SERVFAIL, undefined, 0) }] };
    case 'dns-refused':
      return { ...base, action: 'refused', replies: [{ delayMs: 0, bytes: encode(query, RCODE_REFUSED, undefined, 0) }] };
    case 'dns-wrong-answer':
      if (!isA) break;
      return {
        ...base,
        action: 'wrong-answer',
        replies: [{ delayMs: 0, bytes: encode(query, RCODE_NOERROR, behaviour.address ?? context.blockpageAddress, FORGED_TTL) }],
      };
    case 'dns-inject': {
      if (!isA) break;
      const forged = { delayMs: 0, bytes: encode(query, RCODE_NOERROR, behaviour.address ?? context.blockpageAddress, FORGED_TTL) };
      // A TCP stream carries one answer per query: the injector's wins.
      if (context.transport === 'tcp') return { ...base, action: 'inject', replies: [forged] };
      const real = honest(query, context.zone);
      return { ...base, action: 'inject', replies: [forged, { delayMs: behaviour.delayMs ?? DEFAULT_INJECT_DELAY_MS, bytes: real.bytes }] };
    }
    default:
      // Rules of other stages never reach the resolver.
      break;
  }
  const reply = honest(query, context.zone);
  return { ...base, action: reply.action, replies: [{ delayMs: 0, bytes: reply.bytes }] };
}
