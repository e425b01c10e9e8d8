import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressGuard, ObservedFailure, Trace, httpGet, parseCidrList } from '@steppe/shared';
import { makeTestPki, type TestPki } from './helpers/certs.js';

const loopback = new EgressGuard(parseCidrList('127.0.0.0/8'));
let pki: TestPki;
let server: Server;
let port = 0;
const connections: { remote: string }[] = [];
let httpsServer: Server;
let httpsPort = 0;
let h2Server: Http2SecureServer;
let h2Port = 0;

const PAGE = '<html><head><title>  Honest &amp; Site </title></head><body>hello</body></html>';

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  if (path === '/r1') {
    res.writeHead(302, { location: '/r2' }).end();
  } else if (path === '/r2') {
    res.writeHead(301, { location: `http://127.0.0.1:${port}/final`, server: 'lab' }).end();
  } else if (path === '/final' || path === '/') {
    res.writeHead(200, { 'content-type': 'text/html', server: 'lab' }).end(PAGE);
  } else if (path === '/loop') {
    res.writeHead(302, { location: '/loop' }).end();
  } else if (path === '/offsite') {
    res.writeHead(302, { location: `http://127.0.0.2:${port}/final` }).end();
  } else if (path === '/named') {
    res.writeHead(307, { location: `http://www.site.test:${port}/final` }).end();
  } else if (path === '/big') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const push = (): void => {
      if (sent >= 1024 * 1024) {
        res.end();
        return;
      }
      sent += chunk.length;
      res.write(chunk);
      setTimeout(push, 5);
    };
    push();
  } else if (path === '/slow') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let n = 0;
    const timer = setInterval(() => {
      n += 1;
      res.write(Buffer.alloc(1000, 0x62));
      if (n === 10) {
        clearInterval(timer);
        res.end();
      }
    }, 20);
  } else if (path === '/reset') {
    (req.socket as Socket).resetAndDestroy();
  } else if (path === '/reset-mid-body') {
    res.writeHead(200, { 'content-length': '100000' });
    res.write(Buffer.alloc(5000, 0x63), () => setTimeout(() => (req.socket as Socket).resetAndDestroy(), 30));
  } else if (path === '/eof') {
    req.socket.end();
  } else if (path === '/stall') {
    // headers never come
  } else {
    res.writeHead(404).end('not found');
  }
}

beforeAll(async () => {
  pki = makeTestPki();
  server = createServer(route);
  server.on('connection', (socket) => connections.push({ remote: socket.remoteAddress ?? '' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  httpsServer = createHttpsServer({ key: pki.valid.key, cert: pki.valid.cert }, route);
  await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
  httpsPort = (httpsServer.address() as AddressInfo).port;
  h2Server = createSecureServer({ key: pki.valid.key, cert: pki.valid.cert, allowHTTP1: true }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => h2Server.listen(0, '127.0.0.1', resolve));
  h2Port = (h2Server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  httpsServer.closeAllConnections();
  await Promise.all([
    new Promise<void>((resolve) => server.close(() => resolve())),
    new Promise<void>((resolve) => httpsServer.close(() => resolve())),
    new Promise<void>((resolve) => h2Server.close(() => resolve())),
  ]);
  pki.cleanup();
});

const noDns = async (hostname: string): Promise<string[]> => {
  throw new ObservedFailure('dns_nxdomain_error', `no DNS in this test (${hostname})`);
};

function get(path: string, extra: Partial<Parameters<typeof httpGet>[0]> = {}) {
  const trace = extra.trace ?? new Trace();
  return { trace, hops: httpGet({ url: `http://127.0.0.1:${port}${path}`, resolve: noDns, timeoutMs: 3000, guard: loopback, trace, ...extra }) };
}

describe('httpGet against real loopback servers', () => {
  it('follows a redirect chain hop by hop and records every hop', async () => {
    const { trace, hops } = get('/r1');
    const chain = await hops;
    expect(chain.map((h) => [h.url, h.statusCode, h.location])).toEqual([
      [`http://127.0.0.1:${port}/r1`, 302, `http://127.0.0.1:${port}/r2`],
      [`http://127.0.0.1:${port}/r2`, 301, `http://127.0.0.1:${port}/final`],
      [`http://127.0.0.1:${port}/final`, 200, ''],
    ]);
    const last = chain[2];
    expect(last?.failure).toBe('');
    expect(last?.title).toBe('Honest & Site');
    expect(last?.bodyLength).toBe(Buffer.byteLength(PAGE));
    expect(Buffer.from(last?.bodySha256 ?? []).toString('hex')).toBe(createHash('sha256').update(PAGE).digest('hex'));
    expect(Buffer.from(last?.bodyPrefix ?? []).toString()).toBe(PAGE);
    expect(last?.httpVersion).toBe('http/1.1');
    expect(last?.address).toBe(`127.0.0.1:${port}`);
    expect(last?.responseHeaders).toContainEqual({ name: 'server', value: 'lab' });
    expect(last?.requestHeaders.find((h) => h.name === 'user-agent')?.value).toMatch(/Chrome\//);
    expect(last?.requestHeaders.find((h) => h.name === 'host')?.value).toBe(`127.0.0.1:${port}`);
    for (let i = 1; i < chain.length; i += 1) expect(chain[i]?.t0Ms).toBeGreaterThanOrEqual(chain[i - 1]?.t1Ms ?? Infinity);
    expect(trace.observations().httpRequests).toEqual(chain);
    expect(trace.bytesReceived).toBeGreaterThan(Buffer.byteLength(PAGE));
  });

  it('resolves a redirect hop with the caller\'s DNS, never the system\'s', async () => {
    const asked: string[] = [];
    const chain = await get('/named', { resolve: async (h) => (asked.push(h), ['127.0.0.1']) }).hops;
    expect(asked).toEqual(['www.site.test']);
    expect(chain.at(-1)?.statusCode).toBe(200);
    expect(chain.at(-1)?.requestHeaders.find((h) => h.name === 'host')?.value).toBe(`www.site.test:${port}`);
    const failed = await get('/named').hops;
    expect(failed.at(-1)?.failure).toBe('dns_nxdomain_error');
  });

  it('stops after maxRedirects with http_too_many_redirects', async () => {
    const chain = await get('/loop', { maxRedirects: 3 }).hops;
    expect(chain).toHaveLength(4);
    expect(chain.at(-1)?.failure).toBe('http_too_many_redirects');
  });

  it('a redirect to an address outside --allow-net is blocked_by_policy before connecting', async () => {
    const strict = new EgressGuard(parseCidrList('127.0.0.1/32'));
    const before = connections.length;
    const chain = await get('/offsite', { guard: strict }).hops;
    expect(chain.map((h) => h.failure)).toEqual(['', 'blocked_by_policy']);
    expect(chain[1]?.address).toBe(`127.0.0.2:${port}`);
    expect(connections.length).toBe(before + 1);
  });

  it('caps the body and records throughput samples during the download', async () => {
    const chain = await get('/big', { maxBodyBytes: 300 * 1024, sampleIntervalMs: 1 }).hops;
    const hop = chain[0];
    expect(hop?.bodyTruncated).toBe(true);
    expect(hop?.bodyLength).toBe(300 * 1024);
    expect(hop?.bodyPrefix.length).toBe(4096);
    const samples = hop?.throughput ?? [];
    expect(samples.length).toBeGreaterThan(2);
    expect(samples.at(-1)?.bytes).toBe(300 * 1024);
    for (let i = 1; i < samples.length; i += 1) {
      expect(samples[i]?.tMs).toBeGreaterThanOrEqual(samples[i - 1]?.tMs ?? Infinity);
      expect(samples[i]?.bytes).toBeGreaterThanOrEqual(samples[i - 1]?.bytes ?? Infinity);
    }
  });

  it('samples a slow download over time', async () => {
    const hop = (await get('/slow', { sampleIntervalMs: 30 }).hops)[0];
    expect(hop?.bodyLength).toBe(10_000);
    expect((hop?.throughput ?? []).length).toBeGreaterThanOrEqual(3);
    expect(hop?.throughput.at(-1)?.tMs ?? 0).toBeGreaterThan((hop?.throughput[0]?.tMs ?? 0) + 100);
  });

  it('an RST instead of a response is connection_reset; a FIN is eof_error', async () => {
    expect((await get('/reset').hops)[0]?.failure).toBe('connection_reset');
    expect((await get('/eof').hops)[0]?.failure).toBe('eof_error');
  });

  it('an RST in the middle of the body keeps what arrived', async () => {
    const hop = (await get('/reset-mid-body').hops)[0];
    expect(hop?.statusCode).toBe(200);
    expect(hop?.failure).toBe('connection_reset');
    expect(hop?.bodyLength).toBe(5000);
  });

  it('a server that never answers is generic_timeout_error within the budget', async () => {
    const hop = (await get('/stall', { timeoutMs: 300 }).hops)[0];
    expect(hop?.failure).toBe('generic_timeout_error');
    expect(hop?.statusCode).toBe(0);
  });

  it('binds the local address', async () => {
    const before = connections.length;
    await get('/final', { localAddress: '127.0.0.7' }).hops;
    expect(connections.slice(before).map((c) => c.remote)).toEqual(['127.0.0.7']);
  });

  it('https: trusts the extra CA, sends SNI from the URL, verifies the name', async () => {
    const trace = new Trace();
    const ok = await httpGet({ url: `https://site.test:${httpsPort}/final`, resolve: async () => ['127.0.0.1'], extraCa: [pki.caPem], timeoutMs: 3000, guard: loopback, trace });
    expect(ok[0]?.failure).toBe('');
    expect(ok[0]?.statusCode).toBe(200);
    expect(ok[0]?.title).toBe('Honest & Site');
    const untrusted = await httpGet({ url: `https://site.test:${httpsPort}/final`, resolve: async () => ['127.0.0.1'], timeoutMs: 3000, guard: loopback, trace });
    expect(untrusted[0]?.failure).toBe('ssl_unknown_authority');
    const wrongName = await httpGet({ url: `https://wrong.test:${httpsPort}/final`, firstAddress: '127.0.0.1', resolve: noDns, extraCa: [pki.caPem], timeoutMs: 3000, guard: loopback, trace });
    expect(wrongName[0]?.failure).toBe('ssl_invalid_hostname');
  });

  it('https: speaks h2 when the server offers it', async () => {
    const hops = await httpGet({ url: `https://site.test:${h2Port}/`, firstAddress: '127.0.0.1', resolve: noDns, extraCa: [pki.caPem], timeoutMs: 3000, guard: loopback, trace: new Trace() });
    expect(hops[0]?.failure).toBe('');
    expect(hops[0]?.httpVersion).toBe('h2');
    expect(hops[0]?.title).toBe('Honest & Site');
  });
});
