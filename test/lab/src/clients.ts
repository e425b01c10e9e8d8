import { createSocket } from 'node:dgram';
import { X509Certificate } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import dnsPacket from 'dns-packet';
import { assertLabAddress } from './addresses.js';

/**
 * Plain socket clients for testing the lab itself (and for the namespace
 * tier's in-namespace client). They only ever connect to an explicit lab
 * address (127.0.0.0/8 or 198.18.0.0/15), checked before any socket opens,
 * and report errors by their Node code rather than throwing.
 */

const contexts = new Map<string, SecureContext>();

/** A TLS client context trusting `ca` (cached: building one parses every PEM). */
function trusting(ca: string | readonly string[]): SecureContext {
  const list = typeof ca === 'string' ? [ca] : [...ca];
  const key = list.join('\n');
  let context = contexts.get(key);
  if (context === undefined) {
    context = createSecureContext({ ca: list });
    contexts.set(key, context);
  }
  return context;
}

/** Error code of a thrown value ("ECONNRESET", "ETIMEDOUT"...). */
export function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

/** One DNS response as received. */
export interface DnsResponse {
  /** Milliseconds after the query was sent. */
  readonly ms: number;
  readonly id: number;
  readonly rcode: number;
  /** A/AAAA answer addresses, in order. */
  readonly addresses: readonly string[];
}

/** Options of `queryDns`. */
export interface DnsQueryOptions {
  readonly server: string;
  readonly port: number;
  readonly name: string;
  readonly type?: 'A' | 'AAAA';
  readonly localAddress?: string;
  readonly transport?: 'udp' | 'tcp';
  /** Give up after this long without any response (default 2000). */
  readonly timeoutMs?: number;
  /** Keep listening this long after the first UDP response, to catch duplicates (default 150). */
  readonly listenMs?: number;
}

function decodeResponse(bytes: Buffer, started: number): DnsResponse | undefined {
  try {
    const packet = dnsPacket.decode(bytes);
    const addresses = (packet.answers ?? []).flatMap((a) => (a.type === 'A' || a.type === 'AAAA' ? [a.data] : []));
    return { ms: Date.now() - started, id: packet.id ?? 0, rcode: (packet.flags ?? 0) & 0xf, addresses };
  } catch {
    return undefined;
  }
}

/** Send one query and collect every response (several when an injector races the resolver). */
export function queryDns(options: DnsQueryOptions): Promise<DnsResponse[]> {
  assertLabAddress(options.server, 'server');
  const id = Math.floor(Math.random() * 65_536);
  const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: options.type ?? 'A', name: options.name }] });
  const timeoutMs = options.timeoutMs ?? 2000;
  const listenMs = options.listenMs ?? 150;
  const started = Date.now();
  if (options.transport === 'tcp') {
    return new Promise((resolve) => {
      const socket = netConnect({ host: options.server, port: options.port, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
      const responses: DnsResponse[] = [];
      let buffered = Buffer.alloc(0);
      const done = (): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve(responses);
      };
      const timer = setTimeout(done, timeoutMs);
      socket.on('connect', () => {
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(query.length, 0);
        socket.write(Buffer.concat([prefix, query]));
      });
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          const response = decodeResponse(buffered.subarray(2, 2 + buffered.readUInt16BE(0)), started);
          if (response !== undefined) responses.push(response);
          done();
        }
      });
      socket.on('error', done);
      socket.on('close', done);
    });
  }
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const responses: DnsResponse[] = [];
    let timer: NodeJS.Timeout;
    const done = (): void => {
      clearTimeout(timer);
      socket.close();
      resolve(responses);
    };
    timer = setTimeout(done, timeoutMs);
    socket.on('message', (message) => {
      const response = decodeResponse(message, started);
      if (response === undefined || response.id !== id) return;
      responses.push(response);
      if (responses.length === 1) {
        clearTimeout(timer);
        timer = setTimeout(done, listenMs);
      }
    });
    socket.on('error', done);
    socket.bind({ port: 0, ...(options.localAddress === undefined ? {} : { address: options.localAddress }) }, () => {
      socket.send(query, options.port, options.server);
    });
  });
}

/** What happened to a TCP connection. */
export interface TcpResult {
  /** True when the three-way handshake completed. */
  readonly connected: boolean;
  /** Error code of the connect, or of the connection after it (e.g. ECONNRESET). */
  readonly error: string | undefined;
  /** After connecting: 'reset' (RST), 'eof' (FIN) or 'open' (still open after `holdMs`). */
  readonly after: 'reset' | 'eof' | 'open' | undefined;
}

/** Connect, optionally send `send`, then watch the connection for `holdMs` (default 300). */
export function tcpConnect(options: {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly send?: Buffer | string;
  readonly timeoutMs?: number;
  readonly holdMs?: number;
}): Promise<TcpResult> {
  assertLabAddress(options.host, 'host');
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const socket = netConnect({ host: options.host, port: options.port, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    const finish = (result: TcpResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    let timer = setTimeout(() => finish({ connected, error: 'ETIMEDOUT', after: undefined }), options.timeoutMs ?? 2000);
    socket.on('connect', () => {
      connected = true;
      clearTimeout(timer);
      if (options.send !== undefined) socket.write(options.send);
      timer = setTimeout(() => finish({ connected, error: undefined, after: 'open' }), options.holdMs ?? 300);
    });
    socket.on('data', () => undefined);
    socket.on('end', () => finish({ connected, error: undefined, after: 'eof' }));
    socket.on('error', (err) => {
      const code = errorCode(err);
      finish({ connected, error: code, after: connected ? (code === 'ECONNRESET' ? 'reset' : undefined) : undefined });
    });
  });
}

/** What a TLS handshake showed. */
export interface TlsResult {
  readonly ok: boolean;
  readonly error: string | undefined;
  /** True when the chain validated against `ca` for `servername`. */
  readonly authorized: boolean;
  readonly authorizationError: string | undefined;
  /**
   * The peer chain, leaf first, as node reports it: what the server sent,
   * plus the trusted root when `ca` let node complete the chain.
   */
  readonly chain: readonly X509Certificate[];
  readonly alpn: string | undefined;
}

function peerChain(leaf: PeerCertificate | undefined): X509Certificate[] {
  // getPeerCertificate(true) links issuers; a self-issued root points at itself.
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = leaf;
  while (current?.raw !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    out.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return out;
}

/** Run a TLS handshake (never rejecting on verification: it is reported), then close. */
export function tlsHandshake(options: {
  readonly host: string;
  readonly port: number;
  readonly servername?: string;
  readonly localAddress?: string;
  readonly ca?: string | readonly string[];
  readonly timeoutMs?: number;
}): Promise<TlsResult> {
  assertLabAddress(options.host, 'host');
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: options.host,
      port: options.port,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2', 'http/1.1'],
      ...(options.servername === undefined ? {} : { servername: options.servername }),
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      ...(options.ca === undefined ? {} : { secureContext: trusting(options.ca) }),
    });
    let settled = false;
    const finish = (result: TlsResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const failed = (error: string): TlsResult => ({ ok: false, error, authorized: false, authorizationError: undefined, chain: [], alpn: undefined });
    const timer = setTimeout(() => finish(failed('ETIMEDOUT')), options.timeoutMs ?? 2000);
    socket.on('secureConnect', () => {
      const authorizationError = socket.authorizationError;
      finish({
        ok: true,
        error: undefined,
        authorized: socket.authorized,
        authorizationError: authorizationError === null || authorizationError === undefined ? undefined : errorCode(authorizationError),
        chain: peerChain(socket.getPeerCertificate(true)),
        alpn: socket.alpnProtocol === false ? undefined : socket.alpnProtocol ?? undefined,
      });
    });
    socket.on('error', (err) => finish(failed(errorCode(err))));
    socket.on('end', () => finish(failed('EOF')));
  });
}

/** What an HTTP(S) GET showed. */
export interface HttpResult {
  readonly status: number | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly error: string | undefined;
  /** Milliseconds from the first response byte to the end of the body. */
  readonly bodyMs: number;
}

/**
 * GET `url`, connecting to `address` (the lab host's address: no name is
 * ever resolved here), with SNI and Host from the URL. No redirects followed.
 */
export function httpGet(url: string, options: {
  readonly address: string;
  readonly localAddress?: string;
  readonly ca?: string | readonly string[];
  readonly timeoutMs?: number;
}): Promise<HttpResult> {
  assertLabAddress(options.address, 'address');
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    let status: number | undefined;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let firstByte = 0;
    const finish = (error: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ status, headers, body: Buffer.concat(chunks), error, bodyMs: firstByte === 0 ? 0 : Date.now() - firstByte });
    };
    const req = send({
      host: options.address,
      port: Number(target.port) || (secure ? 443 : 80),
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: { host: target.host, 'user-agent': 'steppe-lab-selftest', accept: '*/*' },
      agent: false,
      ...(secure ? { servername: target.hostname, rejectUnauthorized: true } : {}),
      ...(secure && options.ca !== undefined ? { secureContext: trusting(options.ca) } : {}),
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    }, (res) => {
      status = res.statusCode;
      headers = res.headers;
      res.on('data', (chunk: Buffer) => {
        if (firstByte === 0) firstByte = Date.now();
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined));
      res.on('error', (err) => finish(errorCode(err)));
    });
    const timer = setTimeout(() => finish('ETIMEDOUT'), options.timeoutMs ?? 5000);
    req.on('error', (err) => finish(errorCode(err)));
    req.end();
  });
}
