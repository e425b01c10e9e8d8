import { isIP } from 'node:net';
import { steppe } from '@steppe/proto';
import { withDeadline } from './deadline.js';
import { type AddressQueryType, encodeDnsQuery, failureForResponse, parseDnsResponse } from './dns-message.js';
import type { EgressGuard } from './egress-guard.js';
import type { DnsQueryObservation } from './observations.js';
import { pinnedClient, type PinnedClient } from './pinned-client.js';
import { bareHost, failureOf, ObservedFailure } from './socket.js';
import type { Trace } from './trace.js';

/** Options of `dohLookup`. */
export interface DohLookupOptions {
  /** The DoH endpoint, e.g. https://dns.example/dns-query. */
  readonly url: string;
  /** The endpoint's IP address: DoH never needs the system's DNS. */
  readonly address: string;
  readonly hostname: string;
  readonly queryType: AddressQueryType;
  readonly extraCa?: readonly string[] | undefined;
  readonly localAddress?: string | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly guard: EgressGuard;
  readonly trace: Trace;
  readonly attempt?: number | undefined;
  /** Recorded as `third_party_resolver` (see DnsLookupOptions). */
  readonly thirdPartyResolver?: boolean | undefined;
}

// Largest DNS message (RFC 8484 §6 allows up to 65535).
const MAX_MESSAGE_BYTES = 65_535;

/**
 * DNS over HTTPS (RFC 8484 §4.1): POST an application/dns-message to `url`
 * at `address`, with message id 0 as the RFC recommends for cache
 * friendliness. Recorded like any DNS query, transport DOH, resolver = URL.
 */
export async function dohLookup(options: DohLookupOptions): Promise<DnsQueryObservation> {
  const { trace } = options;
  const observation: DnsQueryObservation = {
    resolver: options.url,
    transport: steppe.v1.DnsTransport.DNS_TRANSPORT_DOH,
    queryType: options.queryType,
    hostname: options.hostname,
    responses: [],
    failure: '',
    t0Ms: trace.elapsedMs(),
    t1Ms: 0,
    attempt: options.attempt ?? 0,
    thirdPartyResolver: options.thirdPartyResolver ?? false,
  };
  let pinned: PinnedClient | undefined;
  try {
    await withDeadline(options.timeoutMs, options.signal, async (signal) => {
      const url = new URL(options.url);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ObservedFailure('unknown_failure: DoH URL must be https');
      if (isIP(bareHost(options.address)) === 0) throw new ObservedFailure('unknown_failure: DoH address must be an IP');
      options.guard.assertAllowed(options.address);
      const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      pinned = pinnedClient({
        origin: new URL(url.origin),
        ip: bareHost(options.address),
        port,
        alpn: ['h2', 'http/1.1'],
        extraCa: options.extraCa,
        localAddress: options.localAddress,
        guard: options.guard,
        trace,
        signal,
        timeoutMs: options.timeoutMs,
      });
      const query = encodeDnsQuery(0, options.hostname, options.queryType);
      const response = await pinned.client.request({
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { 'content-type': 'application/dns-message', accept: 'application/dns-message' },
        body: query,
        signal,
      });
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > MAX_MESSAGE_BYTES) throw new ObservedFailure('dns_format_error', 'DoH response larger than a DNS message');
        chunks.push(chunk);
      }
      if (response.statusCode !== 200) {
        throw new ObservedFailure(`unknown_failure: DoH server answered HTTP ${response.statusCode}`);
      }
      const parsed = parseDnsResponse(Buffer.concat(chunks), 0, trace.elapsedMs());
      if (parsed === undefined) throw new ObservedFailure('dns_format_error', 'DoH body is not a DNS response');
      observation.responses.push(parsed);
      observation.failure = failureForResponse(parsed, options.queryType);
    });
  } catch (err) {
    observation.failure = failureOf(err);
  } finally {
    const client = (pinned as PinnedClient | undefined)?.client;
    if (client !== undefined) await client.destroy().catch(() => undefined);
  }
  observation.t1Ms = trace.elapsedMs();
  trace.addDnsQuery(observation);
  return observation;
}
