import { type Agent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { type EgressGuard, InvalidArgumentError } from '@steppe/shared';
import { proxyAgentFor } from '../uplink/proxy.js';

/** A response read to the end (bounded by `maxBytes`). */
export interface HttpGetResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Bytes read and written by the socket, for the bandwidth budget. */
  readonly bytesMoved: number;
}

/** Options of one request. */
export interface HttpGetOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
  /** The body is refused beyond this many bytes. */
  readonly maxBytes: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** GET a URL of the collector (test lists, the reachability check). */
export type HttpGet = (url: string, options: HttpGetOptions) => Promise<HttpGetResult>;

/** How the probe may reach its collector. */
export interface EgressRules {
  /** Every address is checked by it before a socket opens. */
  readonly guard: EgressGuard;
  /** Resolves host names through the guard (see guardedLookup). */
  readonly lookup: LookupFunction;
  readonly localAddress?: string | null;
  /** https://, http:// or socks5:// proxy (the uplink's rules: socks5 resolves at the proxy). */
  readonly proxy?: string | null;
  readonly env?: NodeJS.ProcessEnv;
  /** Extra trusted root (PEM), e.g. the lab CA; Mozilla's roots stay trusted. */
  readonly extraCaPem?: string | null;
}

/** A body over `maxBytes`. */
export class BodyTooLargeError extends Error {
  readonly code = 'STEPPE_BODY_TOO_LARGE';
}

/**
 * A GET client for talking to the collector — not for measuring, which the
 * engine does — that obeys the egress rules: an IP literal is checked by the
 * guard here, a name is resolved by the guarded lookup (the probe's resolver,
 * allowed addresses only); sockets bind to the local address; a proxy is used
 * when configured (then only the proxy's address is ours to check, and it is).
 * Every call has a timeout and an AbortSignal.
 */
export function createGuardedHttpGet(rules: EgressRules): HttpGet {
  return async (url, options) => {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new InvalidArgumentError(`only http:// and https:// URLs, got ${JSON.stringify(url)}`);
    }
    const env = rules.env ?? {};
    const agent: Agent | undefined = proxyAgentFor(url, rules.proxy ?? undefined, env);
    if (agent !== undefined) {
      // The proxy is the only address we connect to: it must be allowed too.
      const proxy = rules.proxy ?? env['HTTPS_PROXY'] ?? env['https_proxy'] ?? env['HTTP_PROXY'] ?? env['http_proxy'] ?? '';
      const proxyHost = URL.canParse(proxy) ? new URL(proxy).hostname.replace(/^\[|\]$/g, '') : '';
      if (isIP(proxyHost) !== 0) rules.guard.assertAllowed(proxyHost);
    } else {
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) !== 0) rules.guard.assertAllowed(host);
    }
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<HttpGetResult>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const req = request(
        target,
        {
          method: 'GET',
          headers: { 'user-agent': 'steppe-probe', ...options.headers },
          signal,
          ...(agent !== undefined ? { agent } : { agent: false as const, lookup: rules.lookup }),
          ...(agent === undefined && rules.localAddress ? { localAddress: rules.localAddress } : {}),
          // Adding a CA replaces Node's default list, so Mozilla's roots are passed too.
          ...(rules.extraCaPem ? { ca: [...rootCertificates, rules.extraCaPem] } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > options.maxBytes) {
              fail(new BodyTooLargeError(`response body larger than ${options.maxBytes} bytes`));
              req.destroy();
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            const socket = req.socket;
            const bytesMoved = socket === null ? size : socket.bytesRead + socket.bytesWritten;
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), bytesMoved });
          });
          res.on('error', fail);
        },
      );
      req.on('error', fail);
      req.end();
    });
  };
}
