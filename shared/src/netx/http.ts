import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { scrubValues } from '../scrub.js';
import { withDeadline } from './deadline.js';
import type { EgressGuard } from './egress-guard.js';
import { extractTitle } from './html-title.js';
import type { HttpHeaderObservation, HttpRequestObservation, ThroughputSampleObservation } from './observations.js';
import { pinnedClient, type PinnedClient } from './pinned-client.js';
import { bareHost, failureOf, formatEndpoint, ObservedFailure } from './socket.js';
import { DEFAULT_ALPN } from './tls.js';
import type { Trace } from './trace.js';

/** Request headers of a current desktop Chrome, so a server or a censor treats the probe as a browser. */
export const BROWSER_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'accept-language': 'en-US,en;q=0.9',
};

/** Default body cap. */
export const DEFAULT_MAX_BODY_BYTES = 512 * 1024;
/** Bytes of body kept verbatim for blockpage matching. */
export const BODY_PREFIX_BYTES = 4096;
/** Redirects followed at most (as browsers and OONI do). */
export const DEFAULT_MAX_REDIRECTS = 10;
/** Default spacing of throughput samples. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 50;

/**
 * Response headers worth keeping: what identifies a server, a cache, a
 * middlebox, a redirect or a CDN's challenge (cf-mitigated, cf-ray,
 * x-amzn-waf-action: shared/data/challenges/). Others (cookies...) are noise
 * or identifying. The OONI import keeps the same ones.
 */
export const KEPT_RESPONSE_HEADERS: readonly string[] = [
  'server', 'location', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'via',
  'x-cache', 'x-served-by', 'x-powered-by', 'cache-control', 'refresh', 'connection',
  'cf-mitigated', 'cf-ray', 'x-amzn-waf-action',
];

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Options of `httpGet`. */
export interface HttpGetOptions {
  readonly url: string;
  /**
   * The caller's DNS: addresses of a host name (never the system's resolver).
   * To fail with a DNS failure string, throw an `ObservedFailure`.
   */
  readonly resolve: (hostname: string) => Promise<readonly string[]>;
  /** Address to use for the first request instead of resolving its host. */
  readonly firstAddress?: string | undefined;
  readonly localAddress?: string | undefined;
  /** Request headers; default BROWSER_HEADERS. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly maxBodyBytes?: number | undefined;
  /** Budget for the whole chain of requests. */
  readonly timeoutMs: number;
  readonly maxRedirects?: number | undefined;
  readonly extraCa?: readonly string[] | undefined;
  /** ALPN offered for https; default h2, http/1.1. */
  readonly alpn?: readonly string[] | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly guard: EgressGuard;
  readonly trace: Trace;
  readonly sampleIntervalMs?: number | undefined;
  readonly attempt?: number | undefined;
}

/**
 * GET `url` and follow redirects one by one, each hop an HttpRequest
 * observation (appended to the trace in order, and returned): status,
 * selected headers, location, body capped at `maxBodyBytes` (SHA-256, first
 * 4 KiB, title), throughput samples (cumulative body bytes over time), the
 * address used and the HTTP version. Each hop's host is resolved with the
 * caller's `resolve`, checked by the egress guard and connected to by IP; SNI
 * and Host stay the URL's host name. A failure ends the chain and is recorded
 * on the hop it happened in.
 */
export async function httpGet(options: HttpGetOptions): Promise<HttpRequestObservation[]> {
  const hops: HttpRequestObservation[] = [];
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const resolved = new Map<string, readonly string[]>();
  await withDeadline(options.timeoutMs, options.signal, async (signal) => {
    let url = options.url;
    for (let hop = 0; ; hop += 1) {
      const observation = await fetchOne(url, hop === 0, options, resolved, signal);
      hops.push(observation);
      options.trace.addHttpRequest(observation);
      if (observation.failure !== '' || observation.location === '') return;
      if (hop >= maxRedirects) {
        observation.failure = 'http_too_many_redirects';
        return;
      }
      url = observation.location;
    }
  });
  return hops;
}

async function addressFor(host: string, first: boolean, options: HttpGetOptions, resolved: Map<string, readonly string[]>): Promise<string> {
  if (isIP(host) !== 0) return host;
  if (first && options.firstAddress !== undefined) return options.firstAddress;
  let addresses = resolved.get(host);
  if (addresses === undefined) {
    addresses = await options.resolve(host);
    resolved.set(host, addresses);
  }
  const address = addresses[0];
  if (address === undefined) throw new ObservedFailure('dns_no_answer', `no address for ${host}`);
  return address;
}

/** An HTTP GET observation before anything happened: filled in as the exchange goes. */
export function newHttpObservation(url: string, t0Ms: number, attempt: number): HttpRequestObservation {
  return {
    url,
    method: 'GET',
    requestHeaders: [],
    statusCode: 0,
    responseHeaders: [],
    bodyLength: 0,
    bodyTruncated: false,
    bodySha256: new Uint8Array(),
    bodyPrefix: new Uint8Array(),
    title: '',
    failure: '',
    t0Ms,
    t1Ms: 0,
    location: '',
    address: '',
    throughput: [],
    attempt,
    httpVersion: '',
  };
}

async function fetchOne(
  url: string,
  first: boolean,
  options: HttpGetOptions,
  resolved: Map<string, readonly string[]>,
  signal: AbortSignal,
): Promise<HttpRequestObservation> {
  const { trace } = options;
  const requestHeaders = { ...(options.headers ?? BROWSER_HEADERS) };
  const observation = newHttpObservation(url, trace.elapsedMs(), options.attempt ?? 0);
  let pinned: PinnedClient | undefined;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ObservedFailure(first ? `unknown_failure: unsupported URL scheme ${parsed.protocol}` : 'http_invalid_redirect');
    }
    const host = bareHost(parsed.hostname);
    const port = parsed.port !== '' ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    const headers: Record<string, string> = { host: parsed.host, ...requestHeaders };
    observation.requestHeaders = Object.entries(headers).map(([name, value]) => ({ name, value }));
    const ip = await addressFor(host, first, options, resolved);
    observation.address = formatEndpoint(ip, port);
    options.guard.assertAllowed(ip);
    pinned = pinnedClient({
      origin: new URL(parsed.origin),
      ip,
      port,
      alpn: options.alpn ?? DEFAULT_ALPN,
      extraCa: options.extraCa,
      localAddress: options.localAddress,
      guard: options.guard,
      trace,
      signal,
      timeoutMs: options.timeoutMs,
    });
    // undici sets Host itself from the origin (and h2 forbids the header).
    const response = await pinned.client.request({ path: `${parsed.pathname}${parsed.search}`, method: 'GET', headers: requestHeaders, signal });
    observation.httpVersion = pinned.httpVersion();
    observation.statusCode = response.statusCode;
    observation.responseHeaders = keptHeaders(response.headers, options.localAddress);
    const location = headerValue(response.headers, 'location');
    if (REDIRECT_STATUSES.has(response.statusCode) && location !== undefined) {
      try {
        observation.location = new URL(location, url).href;
      } catch {
        observation.failure = 'http_invalid_redirect';
      }
    }
    await readBody(response.body, observation, options, signal);
  } catch (err) {
    observation.failure = failureOf(err);
    if (pinned !== undefined && observation.httpVersion === '') observation.httpVersion = pinned.httpVersion();
  } finally {
    if (pinned !== undefined) await pinned.client.destroy().catch(() => undefined);
    observation.t1Ms = trace.elapsedMs();
  }
  return observation;
}

/**
 * Read the body up to the cap, sampling cumulative bytes over time. What was
 * read before a failure (reset, timeout) is kept: a throttled or cut
 * download is evidence in itself.
 */
async function readBody(
  body: AsyncIterable<Buffer> & { destroy(error?: Error): unknown },
  observation: HttpRequestObservation,
  options: HttpGetOptions,
  signal: AbortSignal,
): Promise<void> {
  const { trace } = options;
  const cap = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const interval = options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let length = 0;
  const samples: ThroughputSampleObservation[] = [{ tMs: trace.elapsedMs(), bytes: 0 }];
  let lastSampleMs = samples[0]?.tMs ?? 0;
  const finishBody = (): void => {
    const now = trace.elapsedMs();
    if (samples.at(-1)?.bytes !== length || samples.length === 1) samples.push({ tMs: now, bytes: length });
    observation.bodyLength = length;
    observation.bodySha256 = new Uint8Array(hash.copy().digest());
    const all = Buffer.concat(kept);
    observation.bodyPrefix = new Uint8Array(all.subarray(0, BODY_PREFIX_BYTES));
    observation.title = extractTitle(all);
    observation.throughput = samples;
  };
  try {
    if (signal.aborted) throw signal.reason;
    for await (const chunk of body) {
      const room = cap - length;
      const take = chunk.length <= room ? chunk : chunk.subarray(0, room);
      hash.update(take);
      if (length < 64 * 1024) kept.push(take);
      length += take.length;
      const now = trace.elapsedMs();
      if (now - lastSampleMs >= interval) {
        samples.push({ tMs: now, bytes: length });
        lastSampleMs = now;
      }
      if (chunk.length > room) {
        observation.bodyTruncated = true;
        body.destroy();
        break;
      }
    }
  } finally {
    finishBody();
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function keptHeaders(headers: IncomingHttpHeaders, localAddress: string | undefined): HttpHeaderObservation[] {
  const out: HttpHeaderObservation[] = [];
  const own = localAddress !== undefined ? [localAddress] : [];
  for (const name of KEPT_RESPONSE_HEADERS) {
    const value = headers[name];
    const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
    for (const v of values) out.push({ name, value: scrubValues(v, own) });
  }
  return out;
}
