import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { plainAddress } from './addresses.js';
import { DEFAULT_THROTTLE_BPS } from './behaviours.js';
import type { Censor } from './censor.js';
import { planDnsReply } from './dns-answer.js';
import type { LabAction, LabLog } from './event-log.js';
import type { NetworkTable } from './networks.js';
import { blockPage, challengePage, homePage, largeResource, notFoundPage } from './pages.js';
import { pacedEnd } from './pacer.js';
import { BLOCKPAGE_DOMAIN, type LabSite } from './sites.js';

/** Path of each normal site's large static resource (for throughput measurements). */
export const LARGE_RESOURCE_PATH = '/static/large.bin';

/** Path of the DoH endpoint on the DoH host (RFC 8484 §4.1 example path). */
export const DOH_PATH = '/dns-query';

const STYLESHEET = 'body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem}header,footer{padding:1rem}\n';
const MAX_DOH_BODY = 65_535;

/** What the web handler needs from the lab. */
export interface WebContext {
  readonly sitesByAddress: ReadonlyMap<string, LabSite>;
  readonly sitesByDomain: ReadonlyMap<string, LabSite>;
  readonly zone: ReadonlyMap<string, string>;
  readonly censor: Censor;
  readonly networks: NetworkTable;
  readonly log: LabLog;
  readonly httpPort: number;
  readonly blockpageAddress: string;
  readonly pageBytes: number;
  readonly largeBytes: number;
  /** The raw TCP socket behind a connection, by "remoteAddress:remotePort" (to reset a TLS connection). */
  readonly rawSockets: ReadonlyMap<string, Socket>;
  /** Register a stop function of a paced response, called on lab close. */
  readonly track: (stop: () => void) => () => void;
}

interface Response {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function html(status: number, text: string, server: string): Response {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', server, 'cache-control': 'private, no-cache, no-store, must-revalidate', 'x-content-type-options': 'nosniff' },
    body: Buffer.from(text),
  };
}

/**
 * Serves every lab host over HTTP and HTTPS, applying the censor's HTTP
 * rules (matched on the Host header and the client's source network):
 * blockpage, redirect to the blockpage host, reset after the request,
 * throttling; a CDN-fronted site challenges in-country visitors. Content is chosen by Host (virtual hosting) except on the
 * blockpage host, which answers every name with the blockpage (the target of
 * forged DNS answers).
 */
export class WebHandler {
  readonly #context: WebContext;
  readonly #pages = new Map<string, Response>();
  readonly #flakyChecked = new WeakSet<object>();
  #large: Buffer | undefined;

  constructor(context: WebContext) {
    this.#context = context;
  }

  /** The request listener of the lab's HTTP and HTTPS servers. */
  handle(req: IncomingMessage, res: ServerResponse, intercepted: boolean): void {
    const { censor, networks, log, sitesByAddress, sitesByDomain } = this.#context;
    const socket = req.socket;
    const source = plainAddress(socket.remoteAddress);
    const network = networks.lookup(source);
    const addressSite = sitesByAddress.get(plainAddress(socket.localAddress));
    const scheme: 'http' | 'https' = 'encrypted' in socket && socket.encrypted === true ? 'https' : 'http';
    const host = hostOf(req.headers.host) ?? addressSite?.domain ?? '';
    const path = req.url ?? '/';
    const rule = censor.match('http', host, network);
    const record = (action: LabAction): void => {
      log.record({
        kind: 'http-request', source, network: network?.id, domain: addressSite?.domain ?? '', scheme, host,
        method: req.method ?? '', path, intercepted, action,
      });
    };
    // A flaky site fails the first connections that carry a request (HTTPS ones were decided at the ClientHello).
    if (scheme === 'http' && addressSite !== undefined && !this.#flakyChecked.has(socket)) {
      this.#flakyChecked.add(socket);
      const flaky = censor.match('tcp', addressSite.domain, network);
      if (flaky?.behaviour.kind === 'flaky' && censor.flakyShouldFail(flaky, addressSite.domain, source)) {
        record('flaky-reset');
        this.#reset(socket);
        return;
      }
    }
    switch (rule?.behaviour.kind) {
      case 'shutdown':
        // The network went dark mid-connection: no answer, ever.
        record('shutdown');
        return;
      case 'http-reset':
        record('http-reset');
        this.#reset(socket);
        return;
      case 'http-blockpage':
        record('blockpage');
        this.#send(req, res, html(200, blockPage(host), 'nginx'));
        return;
      case 'http-redirect': {
        record('redirect');
        const target = `http://${BLOCKPAGE_DOMAIN}:${this.#context.httpPort}/?host=${encodeURIComponent(host)}`;
        this.#send(req, res, { status: 302, headers: { location: target, server: 'nginx', 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from(`<a href="${target}">Moved</a>\n`) });
        return;
      }
      default:
        break;
    }
    const site = addressSite?.role === 'blockpage' ? addressSite : sitesByDomain.get(host) ?? addressSite;
    if (site?.cdnChallenge === true && network?.role === 'in-country') {
      record('challenge');
      this.#send(req, res, challengeResponse(host));
      return;
    }
    if (site?.role === 'doh' && path.split('?')[0] === DOH_PATH) {
      record('serve');
      this.#doh(req, res);
      return;
    }
    const response = this.#content(site, path, host, req.method ?? 'GET');
    if (rule?.behaviour.kind === 'throttle') {
      record('throttle');
      res.writeHead(response.status, { ...response.headers, 'content-length': String(response.body.length) });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      const untrack = this.#context.track(() => stop());
      const stop = pacedEnd(res, response.body, rule.behaviour.bitsPerSecond ?? DEFAULT_THROTTLE_BPS, () => untrack());
      return;
    }
    record(response.status === 404 ? 'not-found' : 'serve');
    this.#send(req, res, response);
  }

  #send(req: IncomingMessage, res: ServerResponse, response: Response): void {
    res.writeHead(response.status, { ...response.headers, 'content-length': String(response.body.length) });
    res.end(req.method === 'HEAD' ? undefined : response.body);
  }

  #reset(socket: IncomingMessage['socket']): void {
    const raw = this.#context.rawSockets.get(`${plainAddress(socket.remoteAddress)}:${socket.remotePort ?? 0}`);
    const target = raw ?? (socket instanceof Socket ? socket : undefined);
    try {
      if (target !== undefined && !target.destroyed) target.resetAndDestroy();
      else socket.destroy();
    } catch {
      socket.destroy();
    }
  }

  #content(site: LabSite | undefined, path: string, host: string, method: string): Response {
    if (site === undefined) return html(404, '<!DOCTYPE html><title>Not found</title><h1>Not found</h1>\n', 'steppe-lab');
    if (site.role === 'blockpage') return html(200, blockPage(host === site.domain ? undefined : host), 'nginx');
    if (method !== 'GET' && method !== 'HEAD') {
      return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain' }, body: Buffer.from('method not allowed\n') };
    }
    const route = path.split('?')[0] ?? '/';
    if (route === '/' || route === '/index.html') {
      let page = this.#pages.get(site.domain);
      if (page === undefined) {
        page = html(200, homePage(site, this.#context.pageBytes), serverHeader(site));
        this.#pages.set(site.domain, page);
      }
      return page;
    }
    if (route === LARGE_RESOURCE_PATH) {
      this.#large ??= largeResource(this.#context.largeBytes);
      return { status: 200, headers: { 'content-type': 'application/octet-stream', server: serverHeader(site), 'cache-control': 'public, max-age=3600' }, body: this.#large };
    }
    if (route === '/static/site.css') {
      return { status: 200, headers: { 'content-type': 'text/css', server: serverHeader(site) }, body: Buffer.from(STYLESHEET) };
    }
    return html(404, notFoundPage(site), serverHeader(site));
  }

  /** RFC 8484 §4.1: GET with ?dns=<base64url> or POST with an application/dns-message body. Honest answers. */
  #doh(req: IncomingMessage, res: ServerResponse): void {
    const answer = (query: Buffer): void => {
      const plan = planDnsReply(query, { zone: this.#context.zone, rule: undefined, blockpageAddress: this.#context.blockpageAddress, transport: 'tcp' });
      const reply = plan.replies[0];
      if (reply === undefined) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('not a DNS query\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/dns-message', 'cache-control': 'max-age=300', 'content-length': String(reply.bytes.length) });
      res.end(reply.bytes);
    };
    if (req.method === 'GET') {
      const dns = new URL(req.url ?? '/', 'http://doh.invalid').searchParams.get('dns');
      if (dns === null) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('missing dns parameter\n');
        return;
      }
      answer(Buffer.from(dns, 'base64url'));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DOH_BODY) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end('too large\n');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!res.headersSent) answer(Buffer.concat(chunks));
    });
  }
}

// Fixed, so every challenge is byte-identical (as the lab's pages are).
const RAY_ID = '8f1c2a3b4d5e6f70';

/** The CDN's challenge: status 403 and the headers Cloudflare sends with one (cf-mitigated, cf-ray). */
function challengeResponse(host: string): Response {
  return {
    status: 403,
    headers: {
      'content-type': 'text/html; charset=UTF-8',
      server: 'cloudflare',
      'cf-ray': `${RAY_ID}-ALA`,
      'cf-mitigated': 'challenge',
      'cache-control': 'private, max-age=0, no-store, no-cache, must-revalidate',
    },
    body: Buffer.from(challengePage(host, RAY_ID)),
  };
}

function serverHeader(site: LabSite): string {
  return site.organization.startsWith('Google') ? 'ESF' : site.organization.startsWith('Meta') ? 'proxygen-bolt' : 'nginx';
}

/** Host header without port, lower case; undefined when absent or unreadable. */
function hostOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length === 0) return undefined;
  const bare = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0] ?? header;
  return bare.toLowerCase().replace(/\.$/, '');
}
