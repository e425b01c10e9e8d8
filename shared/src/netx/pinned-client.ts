import type { Client } from 'undici';
import type { EgressGuard } from './egress-guard.js';
import { lazyModule } from './lazy-module.js';
import { connectTcp, startTls } from './socket.js';
import type { Trace } from './trace.js';

// Loaded on the first client (see lazy-module.ts): most processes that import
// @steppe/shared never make an HTTP request.
const undici = lazyModule<typeof import('undici')>('undici');

/** One origin, reached at one address chosen by the caller's own DNS. */
export interface PinnedOrigin {
  /** "http://host:port" or "https://host:port": Host header and SNI come from it. */
  readonly origin: URL;
  readonly ip: string;
  readonly port: number;
  readonly alpn: readonly string[];
  readonly extraCa?: readonly string[] | undefined;
  readonly localAddress?: string | undefined;
  readonly guard: EgressGuard;
  readonly trace: Trace;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

/** An undici Client pinned to one address, and what its connection negotiated. */
export interface PinnedClient {
  readonly client: Client;
  /** "h2" or "http/1.1" once connected; '' before. */
  httpVersion(): string;
}

/**
 * An undici Client for one origin whose `connect` never resolves anything:
 * it asks the egress guard, opens a TCP socket to the given IP (bound to the
 * local address, counted by the trace), then for https runs TLS with the
 * origin's name as SNI, verifying against Mozilla's roots plus `extraCa`.
 * Never the global dispatcher, never system DNS.
 */
export function pinnedClient(target: PinnedOrigin): PinnedClient {
  const https = target.origin.protocol === 'https:';
  const serverName = bareHostname(target.origin.hostname);
  let version = '';
  const client = new (undici().Client)(target.origin.origin, {
    allowH2: https && target.alpn.includes('h2'),
    pipelining: 1,
    headersTimeout: target.timeoutMs,
    bodyTimeout: target.timeoutMs,
    connect: (_options, callback) => {
      void (async () => {
        const raw = await connectTcp({ ip: target.ip, port: target.port, localAddress: target.localAddress, signal: target.signal, guard: target.guard, trace: target.trace });
        if (!https) {
          version = 'http/1.1';
          return raw;
        }
        const socket = await startTls(raw, { serverName, alpn: target.alpn, extraCa: target.extraCa, rejectUnauthorized: true, signal: target.signal });
        version = socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1';
        return socket;
      })().then(
        (socket) => callback(null, socket),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
      );
    },
  });
  return { client, httpVersion: () => version };
}

function bareHostname(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}
