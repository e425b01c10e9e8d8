import { checkServerIdentity, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { classifyError } from '../classify-error.js';
import { withDeadline } from './deadline.js';
import type { EgressGuard } from './egress-guard.js';
import type { TlsHandshakeObservation } from './observations.js';
import { connectTcp, failureOf, startTls } from './socket.js';
import type { Trace } from './trace.js';

/** ALPN offered by default: what a browser offers. */
export const DEFAULT_ALPN: readonly string[] = ['h2', 'http/1.1'];

/** Options of `tlsHandshake`. */
export interface TlsHandshakeOptions {
  readonly ip: string;
  readonly port: number;
  /** The SNI sent and the name the chain is verified for. */
  readonly serverName: string;
  readonly alpn?: readonly string[] | undefined;
  /** PEM roots trusted besides Node's bundled Mozilla roots (the lab's CA). */
  readonly extraCa?: readonly string[] | undefined;
  readonly localAddress?: string | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly guard: EgressGuard;
  readonly trace: Trace;
  /** Marks a handshake that used a benign name, to tell SNI- from IP-based blocking. */
  readonly controlSni?: boolean | undefined;
  readonly attempt?: number | undefined;
}

/**
 * A TLS handshake to `ip:port` with SNI `serverName`. The handshake is
 * completed whatever the certificate (the chain is the evidence of
 * interception) and judged afterwards: `verification_error` is empty iff the
 * chain is valid for `serverName` against the trust store; `failure` is the
 * failure of the handshake itself (`connection_reset` for an RST,
 * `eof_error` for a FIN, `generic_timeout_error` for silence...).
 */
export async function tlsHandshake(options: TlsHandshakeOptions): Promise<TlsHandshakeObservation> {
  const { trace } = options;
  const alpn = options.alpn ?? DEFAULT_ALPN;
  const observation: TlsHandshakeObservation = {
    serverName: options.serverName,
    ip: options.ip,
    port: options.port,
    alpnOffered: [...alpn],
    negotiatedAlpn: '',
    tlsVersion: '',
    cipherSuite: '',
    peerCertificates: [],
    verificationError: '',
    failure: '',
    t0Ms: trace.elapsedMs(),
    t1Ms: 0,
    controlSni: options.controlSni ?? false,
    attempt: options.attempt ?? 0,
  };
  try {
    await withDeadline(options.timeoutMs, options.signal, async (signal) => {
      const raw = await connectTcp({ ...options, signal });
      const socket = await startTls(raw, {
        serverName: options.serverName,
        alpn,
        extraCa: options.extraCa,
        rejectUnauthorized: false,
        signal,
      });
      try {
        describeSession(socket, options.serverName, observation);
      } finally {
        socket.destroy();
      }
    });
  } catch (err) {
    observation.failure = failureOf(err);
  }
  observation.t1Ms = trace.elapsedMs();
  trace.addTlsHandshake(observation);
  return observation;
}

function describeSession(socket: TLSSocket, serverName: string, out: TlsHandshakeObservation): void {
  out.tlsVersion = socket.getProtocol() ?? '';
  out.cipherSuite = socket.getCipher()?.standardName ?? '';
  out.negotiatedAlpn = typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : '';
  const leaf = socket.getPeerCertificate(true);
  out.peerCertificates = peerChain(leaf);
  out.verificationError = verificationFailure(socket, serverName, leaf);
}

/** The peer's chain as DER, leaf first, as far as the peer sent it (up to a self-issued certificate). */
export function peerChain(leaf: DetailedPeerCertificate): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = leaf;
  // An empty object means the peer sent no certificate.
  while (current !== undefined && current.raw !== undefined && chain.length < 16) {
    const fingerprint = current.fingerprint256;
    if (seen.has(fingerprint)) break;
    seen.add(fingerprint);
    chain.push(new Uint8Array(current.raw));
    const issuer: DetailedPeerCertificate | undefined = current.issuerCertificate;
    if (issuer === undefined || issuer === current) break;
    current = issuer;
  }
  return chain;
}

function verificationFailure(socket: TLSSocket, serverName: string, leaf: DetailedPeerCertificate): string {
  // OpenSSL's verdict on the chain first (the order a browser reports in);
  // authorizationError is the verify code, e.g. "CERT_HAS_EXPIRED".
  const chainError: unknown = socket.authorizationError;
  if (!socket.authorized || chainError !== undefined && chainError !== null) {
    const code = typeof chainError === 'string' ? chainError : chainError instanceof Error ? ((chainError as Error & { code?: string }).code ?? chainError.message) : 'UNKNOWN';
    return classifyError({ code, message: `certificate verification failed: ${code}` });
  }
  if (leaf.raw === undefined) return 'ssl_invalid_certificate';
  const identityError = checkServerIdentity(serverName, leaf);
  return identityError === undefined ? '' : classifyError(identityError);
}
