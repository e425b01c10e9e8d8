import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, rootCertificates, type SecureContext, type TLSSocket } from 'node:tls';
import { classifyError } from '../classify-error.js';
import type { Failure } from '../failures.js';
import type { EgressGuard } from './egress-guard.js';
import type { Trace } from './trace.js';

/**
 * A failure netx itself recognised (e.g. a DNS stream closed before the
 * answer): it already carries its failure string, so it is not re-classified.
 */
export class ObservedFailure extends Error {
  readonly failure: Failure;

  constructor(failure: Failure, message: string = failure) {
    super(message);
    this.name = 'ObservedFailure';
    this.failure = failure;
  }
}

/** The failure string for anything a primitive caught. */
export function failureOf(error: unknown): Failure {
  return error instanceof ObservedFailure ? error.failure : classifyError(error);
}

/** "IP:PORT", with IPv6 in brackets (RFC 3986 §3.2.2). */
export function formatEndpoint(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Host part of a URL without IPv6 brackets. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Where and how to open a TCP connection. */
export interface TcpTarget {
  readonly ip: string;
  readonly port: number;
  /** Source address to bind (`--local-address`). */
  readonly localAddress?: string | undefined;
  readonly signal: AbortSignal;
  readonly guard: EgressGuard;
  readonly trace: Trace;
}

// A lookup that refuses: every connect here is to an IP literal, so Node never
// needs one; should that change, no system DNS query may leak out.
function refuseLookup(hostname: string, _options: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(new Error(`netx never resolves names through the system (${hostname})`), '', 0);
}

/**
 * Open a TCP connection to an IP literal after the egress guard allowed it;
 * the socket's bytes are counted by `trace`. Rejects with the socket error,
 * the guard's `EgressDeniedError` (before any socket exists) or the signal's
 * reason. The caller owns (and must destroy) the socket it gets.
 */
export function connectTcp(target: TcpTarget): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const { ip, port, signal } = target;
    if (isIP(ip) === 0) {
      reject(new ObservedFailure('unknown_failure: not an IP address', `not an IP address: ${ip}`));
      return;
    }
    try {
      target.guard.assertAllowed(ip);
    } catch (err) {
      reject(err);
      return;
    }
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = netConnect({
      host: ip,
      port,
      noDelay: true,
      lookup: refuseLookup,
      ...(target.localAddress !== undefined ? { localAddress: target.localAddress } : {}),
    });
    target.trace.trackSocket(socket);
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('error', onError);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(signal.reason);
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** TLS parameters of `startTls`. */
export interface TlsParameters {
  /** SNI and the name the certificate is checked against; no SNI is sent for an IP literal. */
  readonly serverName: string;
  readonly alpn: readonly string[];
  /** PEM roots trusted in addition to Node's bundled Mozilla roots. */
  readonly extraCa?: readonly string[] | undefined;
  /** false: complete the handshake whatever the chain, so the chain can be recorded and judged. */
  readonly rejectUnauthorized: boolean;
  readonly signal: AbortSignal;
}

/** The trust store: Mozilla's roots plus `extra`, or undefined (Node's default) when there is nothing extra. */
export function trustedCa(extra: readonly string[] | undefined): string[] | undefined {
  return extra !== undefined && extra.length > 0 ? [...rootCertificates, ...extra] : undefined;
}

// Building a context from ~150 PEM roots costs tens of milliseconds of CPU
// on the event loop; every handshake with the same extra roots shares one.
const contexts = new Map<string, SecureContext>();
const MAX_CONTEXTS = 16;

/** A client SecureContext trusting Mozilla's roots plus `extra` (cached); undefined when there is nothing extra. */
export function trustContext(extra: readonly string[] | undefined): SecureContext | undefined {
  const ca = trustedCa(extra);
  if (ca === undefined || extra === undefined) return undefined;
  const key = extra.join('\n');
  let context = contexts.get(key);
  if (context === undefined) {
    context = createSecureContext({ ca });
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value ?? '');
    contexts.set(key, context);
  }
  return context;
}

/**
 * Run a TLS client handshake over a connected TCP socket. Resolves on
 * `secureConnect`; rejects with the TLS error (an RST says "read
 * ECONNRESET"; a FIN says "socket disconnected before secure TLS connection
 * was established", see classify-error.ts), or the signal's reason.
 */
export function startTls(raw: Socket, params: TlsParameters): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const { signal } = params;
    if (signal.aborted) {
      raw.destroy();
      reject(signal.reason);
      return;
    }
    const secureContext = trustContext(params.extraCa);
    const socket = tlsConnect({
      socket: raw,
      ALPNProtocols: [...params.alpn],
      rejectUnauthorized: params.rejectUnauthorized,
      // SNI must be a host name (RFC 6066 §3); Node warns on IP literals.
      ...(isIP(params.serverName) === 0 ? { servername: params.serverName } : {}),
      ...(secureContext !== undefined ? { secureContext } : {}),
    });
    const cleanup = (): void => {
      signal.removeEventListener('abort', onAbort);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onSecure = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      raw.destroy();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      raw.destroy();
      reject(new ObservedFailure('eof_error', 'connection closed during the TLS handshake'));
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      raw.destroy();
      reject(signal.reason);
    };
    socket.once('secureConnect', onSecure);
    socket.once('error', onError);
    socket.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
