import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_PATH, ManualClock, parseCidrList, wire } from '@steppe/shared';
import { type Listening, listenRouter } from '../../src/http/listen.js';
import { Router } from '../../src/http/router.js';
import { registerControlRoutes, type ControlOptions } from '../../src/control/index.js';
import { type LabPki, type TestResolver, type TestSite, makeLabPki, startHttpSite, startHttpsSite, startResolver } from './helpers/lab.js';

// The control vantage against real loopback servers: a dns-packet resolver,
// an HTTPS site with an openssl-made certificate, a plain HTTP site.

const PAGE = `<html><head><title>Steppe Lab Site</title></head><body>${'lorem ipsum '.repeat(4000)}</body></html>`;
const START_MS = 1_607_212_800_000;

let pki: LabPki;
let resolver: TestResolver;
let https: TestSite;
let plain: TestSite;
const endpoints: Listening[] = [];

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly json: Record<string, unknown>;
}

function post(port: number, body: string, method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: CONTROL_PATH, method, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function controlServer(options: ControlOptions): Promise<number> {
  const router = new Router();
  registerControlRoutes(router, options);
  const listening = await listenRouter(router, '127.0.0.1', 0);
  endpoints.push(listening);
  return (listening.server.address() as AddressInfo).port;
}

function options(clock: ManualClock, extra: Partial<ControlOptions> = {}): ControlOptions {
  return {
    resolver: { host: resolver.host, port: resolver.port },
    allowNet: parseCidrList('127.0.0.0/8'),
    extraCa: [pki.caPem],
    asnLookup: (ip) => (ip === '127.0.0.1' ? { asn: 64500, asOrg: 'Lab Net' } : undefined),
    clock,
    stepTimeoutMs: 2000,
    httpTimeoutMs: 5000,
    ...extra,
  };
}

function control(answer: Answer): ReturnType<typeof wire.ControlMeasurement.fromObject> {
  return wire.ControlMeasurement.fromObject(answer.json);
}

const b64 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('base64');

beforeAll(async () => {
  pki = makeLabPki();
  https = await startHttpsSite(pki, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'x-lab-site': 'yes' });
    res.end(req.url === '/' ? PAGE : `<html><head><title>Other ${req.url ?? ''}</title></head></html>`);
  });
  plain = await startHttpSite((_req, res) => {
    res.writeHead(302, { location: `https://www.site.test:${https.port}/` });
    res.end();
  });
  resolver = await startResolver({
    'site.test': { A: ['127.0.0.1'] },
    'www.site.test': { A: ['127.0.0.1'] },
    'plain.test': { A: ['127.0.0.1'] },
    'private.test': { A: ['10.9.9.9'] },
    'broken.test': { rcode: 2 },
  });
});

afterAll(async () => {
  await Promise.all(endpoints.map((l) => {
    l.server.closeAllConnections();
    return l.close();
  }));
  await Promise.all([https.close(), plain.close(), resolver.close()]);
  pki.cleanup();
});

describe('POST /api/v1/control', () => {
  let port: number;
  const clock = new ManualClock(START_MS);
  beforeAll(async () => {
    port = await controlServer(options(clock));
  });

  it('measures DNS with ASNs, TCP per endpoint, TLS per address and the page', async () => {
    const url = `https://site.test:${https.port}/`;
    const answer = await post(port, JSON.stringify({ url, addresses: ['127.0.0.2', '10.1.2.3'] }));
    expect(answer.status).toBe(200);
    expect(answer.headers['x-steppe-cache']).toBe('miss');
    // The caller's own address is echoed to it (and to no one else).
    expect(answer.headers['x-steppe-client-address']).toBe('127.0.0.1');
    // Every field is present in the JSON (defaults: true), bytes in base64, int64 as numbers.
    expect(answer.json).toMatchObject({ failure: '', helper: '', measuredAtMs: START_MS });
    const c = control(answer);
    expect(c.dns?.addresses).toEqual([{ ip: '127.0.0.1', asn: 64500, asOrg: 'Lab Net' }]);
    expect(c.dns?.failure).toBe('');
    expect(c.probeAddresses.map((a) => [a.ip, a.asn])).toEqual([['127.0.0.2', 0], ['10.1.2.3', 0]]);
    expect(c.tcp.map((t) => [t.ip, t.port, t.failure])).toEqual([
      ['127.0.0.1', https.port, ''],
      ['127.0.0.2', https.port, 'connection_refused'],
      ['10.1.2.3', https.port, 'blocked_by_policy'],
    ]);
    expect(c.tls).toHaveLength(1);
    expect(c.tls[0]).toMatchObject({ serverName: 'site.test', ip: '127.0.0.1', port: https.port, failure: '', validForDomain: true, issuerCn: 'Steppe Control Test CA' });
    expect(Buffer.from(c.tls[0]?.leafSha256 ?? []).toString('base64')).toBe(b64(pki.leafDer));
    expect(c.http).toMatchObject({ statusCode: 200, bodyLength: Buffer.byteLength(PAGE), title: 'Steppe Lab Site', failure: '', bodyTruncated: false, finalUrl: url });
    expect(c.http?.headerNames).toEqual(expect.arrayContaining(['content-type']));
    expect(Buffer.from(c.http?.bodySha256 ?? []).toString('base64')).toBe(b64(PAGE));
    expect(c.http?.throughputBps).toBeGreaterThan(0);
    expect(https.requests).toEqual([`site.test:${https.port}/`]);
  });

  it('reuses a result for the same URL and addresses (in any order) for 60 s', async () => {
    const url = `https://site.test:${https.port}/cached`;
    const before = https.requests.length;
    const first = await post(port, JSON.stringify({ url, addresses: ['127.0.0.3', '127.0.0.4'] }));
    expect(first.headers['x-steppe-cache']).toBe('miss');
    expect(https.requests.length).toBe(before + 1);

    clock.advance(59_000);
    const second = await post(port, JSON.stringify({ url, addresses: ['127.0.0.4', '127.0.0.3'] }));
    expect(second.headers['x-steppe-cache']).toBe('hit');
    expect(second.json).toEqual(first.json);
    expect(https.requests.length).toBe(before + 1);

    // Other addresses are another question.
    const other = await post(port, JSON.stringify({ url, addresses: ['127.0.0.3'] }));
    expect(other.headers['x-steppe-cache']).toBe('miss');

    clock.advance(2_000);
    const third = await post(port, JSON.stringify({ url, addresses: ['127.0.0.3', '127.0.0.4'] }));
    expect(third.headers['x-steppe-cache']).toBe('miss');
    expect(third.json['measuredAtMs']).toBe(clock.now());
    expect(https.requests.length).toBe(before + 3);
  });

  it('follows redirects across hosts with its own resolver', async () => {
    const answer = await post(port, JSON.stringify({ url: `http://plain.test:${plain.port}/`, addresses: [] }));
    const c = control(answer);
    expect(c.http).toMatchObject({ statusCode: 200, finalUrl: `https://www.site.test:${https.port}/`, title: 'Steppe Lab Site' });
    expect(c.tls).toEqual([]);
    expect(resolver.queries).toContain('A www.site.test');
  });

  it('reports a name that does not resolve', async () => {
    const c = control(await post(port, JSON.stringify({ url: 'https://nx.test/' })));
    expect(c.dns).toMatchObject({ addresses: [], failure: 'dns_nxdomain_error' });
    expect(c.tcp).toEqual([]);
    expect(c.http?.failure).toBe('dns_nxdomain_error');
    const servfail = control(await post(port, JSON.stringify({ url: 'https://broken.test/' })));
    expect(servfail.dns?.failure).toBe('dns_servfail_error');
  });

  it('never connects outside --allow-net, whatever the DNS or the caller says', async () => {
    const c = control(await post(port, JSON.stringify({ url: `https://private.test:${https.port}/`, addresses: ['192.168.1.1'] })));
    expect((c.dns?.addresses ?? []).map((a) => a.ip)).toEqual(['10.9.9.9']);
    expect(c.tcp.map((t) => [t.ip, t.failure])).toEqual([['10.9.9.9', 'blocked_by_policy'], ['192.168.1.1', 'blocked_by_policy']]);
    expect(c.tls).toEqual([]);
    expect(c.http?.failure).toBe('blocked_by_policy');

    const literal = control(await post(port, JSON.stringify({ url: 'http://10.1.1.1/' })));
    expect(literal.tcp.map((t) => t.failure)).toEqual(['blocked_by_policy']);
    expect(resolver.queries.some((q) => q.includes('10.1.1.1'))).toBe(false);
  });

  it('answers 400 naming the bad field', async () => {
    const cases: [string, RegExp][] = [
      ['not json', /not valid JSON/],
      ['[1,2]', /JSON object/],
      ['{}', /"url"/],
      [JSON.stringify({ url: 'ftp://site.test/' }), /"url".*http:\/\/ or https:\/\//],
      [JSON.stringify({ url: 'https://site.test/', addresses: ['127.0.0.1', 'nope'] }), /"addresses\[1\]"/],
      [JSON.stringify({ url: 'https://site.test/', addresses: Array.from({ length: 17 }, (_v, i) => `127.0.0.${i + 1}`) }), /"addresses"/],
      [JSON.stringify({ url: 'https://site.test/', address: [] }), /"address" is not a known setting/],
      [JSON.stringify({ url: `https://${'a'.repeat(2100)}.test/` }), /"url"/],
      [JSON.stringify({ url: 'https://user:pw@site.test/' }), /credentials/],
    ];
    for (const [body, message] of cases) {
      const answer = await post(port, body);
      expect(answer.status, body.slice(0, 60)).toBe(400);
      const error = answer.json['error'] as { code: string; message: string };
      expect(error.code).toBe('STEPPE_ERR_INVALID_ARGUMENT');
      expect(error.message).toMatch(message);
    }
    expect((await post(port, 'x'.repeat(20_000))).status).toBe(413);
    expect((await post(port, '', 'GET')).status).toBe(405);
  });
});

describe('trust store', () => {
  it('without --ca-file the lab certificate does not validate, and no page is fetched', async () => {
    const port = await controlServer(options(new ManualClock(START_MS), { extraCa: undefined }));
    const c = control(await post(port, JSON.stringify({ url: `https://site.test:${https.port}/untrusted` })));
    expect(c.tls[0]).toMatchObject({ failure: '', validForDomain: false, issuerCn: 'Steppe Control Test CA' });
    expect(c.http?.failure).toBe('ssl_unknown_authority');
  });
});

describe('rate limiting', () => {
  it('answers 429 with a coded error once a client used its burst, and again after refill', async () => {
    const clock = new ManualClock(START_MS);
    const port = await controlServer(options(clock, { rateLimit: { burst: 2, perSecond: 0.5 } }));
    const body = JSON.stringify({ url: 'https://nx.test/' });
    expect((await post(port, body)).status).toBe(200);
    expect((await post(port, body)).status).toBe(200);
    const limited = await post(port, body);
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ error: { code: 'STEPPE_ERR_RATE_LIMITED' } });
    expect(limited.headers['retry-after']).toBe('2');
    // Bad requests count too: the limit is taken before anything else.
    expect((await post(port, 'not json')).status).toBe(429);
    clock.advance(2_000);
    expect((await post(port, body)).status).toBe(200);
  });
});
