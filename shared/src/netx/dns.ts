import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP, type Socket as TcpSocket } from 'node:net';
import { steppe } from '@steppe/proto';
import { withDeadline } from './deadline.js';
import { type AddressQueryType, encodeDnsQuery, failureForResponse, parseDnsResponse, randomQueryId } from './dns-message.js';
import type { EgressGuard } from './egress-guard.js';
import type { DnsQueryObservation, DnsResponseObservation } from './observations.js';
import { connectTcp, failureOf, formatEndpoint, ObservedFailure } from './socket.js';
import type { Trace } from './trace.js';

/** A DNS server's address. */
export interface ResolverAddress {
  readonly host: string;
  readonly port: number;
}

/** How long to keep listening after the first answer, to catch injected duplicates. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 250;

/** Options of `dnsLookup`. */
export interface DnsLookupOptions {
  readonly hostname: string;
  readonly queryType: AddressQueryType;
  readonly resolver: ResolverAddress;
  readonly transport: 'udp' | 'tcp';
  readonly localAddress?: string | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly guard: EgressGuard;
  readonly trace: Trace;
  /**
   * After the first answer, keep listening this long (UDP): on-path
   * injection races the genuine answer, so a second response to one query is
   * evidence. Default 250 ms.
   */
  readonly duplicateWindowMs?: number | undefined;
  readonly attempt?: number | undefined;
  /**
   * The resolver is one the probe asks besides the system's (recorded as
   * `third_party_resolver`; the verdict judges DNS by the system's).
   */
  readonly thirdPartyResolver?: boolean | undefined;
}

/**
 * Ask `resolver` for the A or AAAA records of `hostname`. Every response is
 * recorded in arrival order (rcode, answers with TTL, truncation, whether the
 * id matched); the failure is what a stub resolver would report for the first
 * response whose id matched (`dns_nxdomain_error`, `dns_no_answer`, ...), or
 * `generic_timeout_error` when none came. More than one response adds a
 * `dns_duplicate_response` network event. A truncated UDP answer is asked
 * again over TCP (RFC 7766 §5): both queries are recorded and the TCP one is
 * returned. The resolver address is checked by the egress guard first.
 */
export async function dnsLookup(options: DnsLookupOptions): Promise<DnsQueryObservation> {
  if (options.transport === 'tcp') return tcpQuery(options);
  const udp = await udpQuery(options);
  const first = udp.responses.find((r) => r.idMatches);
  if (first?.truncated === true) return tcpQuery(options);
  return udp;
}

function newObservation(options: DnsLookupOptions, transport: steppe.v1.DnsTransport): DnsQueryObservation {
  return {
    resolver: formatEndpoint(options.resolver.host, options.resolver.port),
    transport,
    queryType: options.queryType,
    hostname: options.hostname,
    responses: [],
    failure: '',
    t0Ms: options.trace.elapsedMs(),
    t1Ms: 0,
    attempt: options.attempt ?? 0,
    thirdPartyResolver: options.thirdPartyResolver ?? false,
  };
}

/** Settle the failure from what arrived, stamp t1 and record the query (and a duplicate event). */
function finish(options: DnsLookupOptions, observation: DnsQueryObservation, error: unknown): DnsQueryObservation {
  const { trace } = options;
  const first = observation.responses.find((r) => r.idMatches);
  if (first !== undefined) {
    // The answer stands even if the duplicate window was cut short.
    observation.failure = failureForResponse(first, options.queryType);
  } else if (observation.responses.length > 0) {
    // Only answers to some other query arrived (a blind injector guessing ids).
    observation.failure = 'dns_reply_with_wrong_query_id';
  } else if (error !== undefined) {
    observation.failure = failureOf(error);
  } else {
    observation.failure = 'generic_timeout_error';
  }
  observation.t1Ms = trace.elapsedMs();
  trace.addDnsQuery(observation);
  if (observation.responses.length > 1) {
    const distinct = new Set(observation.responses.map((r) => `${r.rcode}|${r.answers.map((a) => a.value).join(',')}`)).size;
    trace.addNetworkEvent({
      kind: 'dns_duplicate_response',
      detail: `${observation.responses.length} responses (${distinct} distinct) to the ${options.queryType} query for ${options.hostname} over ${observation.transport === steppe.v1.DnsTransport.DNS_TRANSPORT_TCP ? 'TCP' : 'UDP'}`,
      tMs: observation.responses[1]?.tMs ?? observation.t1Ms,
    });
  }
  return observation;
}

async function udpQuery(options: DnsLookupOptions): Promise<DnsQueryObservation> {
  const observation = newObservation(options, steppe.v1.DnsTransport.DNS_TRANSPORT_UDP);
  let error: unknown;
  try {
    options.guard.assertAllowed(options.resolver.host);
    await withDeadline(options.timeoutMs, options.signal, (signal) => exchangeUdp(options, observation.responses, signal));
  } catch (err) {
    error = err;
  }
  return finish(options, observation, error);
}

/**
 * Send one query and collect responses until the duplicate window after the
 * first matching one closes (or at once for a truncated one). Resolves when
 * done, also when the deadline passes after an answer; rejects when the
 * deadline passes without one.
 */
function exchangeUdp(options: DnsLookupOptions, responses: DnsResponseObservation[], signal: AbortSignal): Promise<void> {
  const { resolver, trace } = options;
  const id = randomQueryId();
  const query = encodeDnsQuery(id, options.hostname, options.queryType);
  const windowMs = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  return new Promise<void>((resolve, reject) => {
    const socket: UdpSocket = createSocket({ type: isIP(resolver.host) === 6 ? 'udp6' : 'udp4' });
    let windowTimer: NodeJS.Timeout | undefined;
    let done = false;
    const settle = (err?: unknown): void => {
      if (done) return;
      done = true;
      if (windowTimer !== undefined) clearTimeout(windowTimer);
      signal.removeEventListener('abort', onAbort);
      socket.close();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = (): void => {
      // An answer already in hand stands; the window was only for duplicates.
      settle(responses.some((r) => r.idMatches) ? undefined : signal.reason);
    };
    socket.on('error', (err) => settle(err));
    socket.on('message', (message) => {
      trace.countDatagram(0, message.length);
      const response = parseDnsResponse(message, id, trace.elapsedMs());
      if (response === undefined || done) return;
      const isFirstMatch = response.idMatches && !responses.some((r) => r.idMatches);
      responses.push(response);
      if (!isFirstMatch) return;
      if (response.truncated || windowMs <= 0) settle();
      else windowTimer = setTimeout(() => settle(), windowMs);
    });
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const send = (): void => {
      // A connected UDP socket only accepts datagrams from the resolver's
      // address and port, and sees ICMP port-unreachable as ECONNREFUSED.
      socket.connect(resolver.port, resolver.host, () => {
        if (done) return;
        socket.send(query, (err) => {
          if (err !== null && err !== undefined) settle(err);
          else trace.countDatagram(query.length, 0);
        });
      });
    };
    if (options.localAddress !== undefined) socket.bind({ address: options.localAddress, port: 0 }, send);
    else send();
  });
}

async function tcpQuery(options: DnsLookupOptions): Promise<DnsQueryObservation> {
  const observation = newObservation(options, steppe.v1.DnsTransport.DNS_TRANSPORT_TCP);
  let error: unknown;
  try {
    await withDeadline(options.timeoutMs, options.signal, async (signal) => {
      const id = randomQueryId();
      const query = encodeDnsQuery(id, options.hostname, options.queryType);
      const socket = await connectTcp({ ip: options.resolver.host, port: options.resolver.port, localAddress: options.localAddress, signal, guard: options.guard, trace: options.trace });
      try {
        const message = await exchangeTcp(socket, query, signal);
        const response = parseDnsResponse(message, id, options.trace.elapsedMs());
        if (response === undefined) throw new ObservedFailure('dns_format_error', 'not a DNS response');
        observation.responses.push(response);
      } finally {
        socket.destroy();
      }
    });
  } catch (err) {
    error = err;
  }
  return finish(options, observation, error);
}

// DNS over TCP: each message is preceded by its length as two bytes (RFC 1035 §4.2.2).
function exchangeTcp(socket: TcpSocket, query: Buffer, signal: AbortSignal): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2) return;
      const length = buffered.readUInt16BE(0);
      if (buffered.length < 2 + length) return;
      cleanup();
      resolve(buffered.subarray(2, 2 + length));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new ObservedFailure('eof_error', 'DNS server closed the connection before answering'));
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason);
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('end', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
    const frame = Buffer.alloc(2 + query.length);
    frame.writeUInt16BE(query.length, 0);
    query.copy(frame, 2);
    socket.write(frame);
  });
}
