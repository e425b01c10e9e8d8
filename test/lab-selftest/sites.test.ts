import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTROL_SOURCE, DOH_DOMAIN, LAB_ROOT_CN, LARGE_RESOURCE_PATH, type Lab, httpGet, startLab, tlsHandshake,
} from '../lab/src/index.js';

const KZ = '127.0.2.1';
const DOMAINS = ['facebook.com', 'www.facebook.com', 'instagram.com', 'www.instagram.com', 'youtube.com', 'www.youtube.com', 'vlast.kz'];

let lab: Lab;

beforeAll(async () => {
  lab = await startLab();
});

afterAll(async () => {
  await lab?.close();
});

function titleOf(body: Buffer): string | undefined {
  return /<title>([^<]*)<\/title>/.exec(body.toString('utf8'))?.[1];
}

describe('lab sites: the honest Internet', () => {
  it('gives every domain its own loopback address and URLs with the shared ports', () => {
    const addresses = lab.sites.map((s) => s.address);
    expect(new Set(addresses).size).toBe(addresses.length);
    for (const domain of DOMAINS) expect(lab.sites.map((s) => s.domain)).toContain(domain);
    expect(lab.url('www.facebook.com')).toBe(`https://www.facebook.com:${lab.ports.https}/`);
    expect(lab.url('vlast.kz', 'http', '/news?id=1')).toBe(`http://vlast.kz:${lab.ports.http}/news?id=1`);
    expect(lab.ports.http).toBeGreaterThan(1023);
    expect(lab.ports.https).not.toBe(lab.ports.http);
    expect(() => lab.url('example.org')).toThrow(/not a lab host/);
    expect(lab.source('kazakhtelecom')).toBe(KZ);
    expect(lab.source('control')).toBe(CONTROL_SOURCE);
    expect(() => lab.source('nowhere')).toThrow(/unknown network/);
  });

  it('serves each site over HTTP and HTTPS with a real-looking page, the same bytes to probe and control', async () => {
    for (const domain of DOMAINS) {
      const bodies: Buffer[] = [];
      for (const scheme of ['http', 'https'] as const) {
        for (const source of [KZ, CONTROL_SOURCE]) {
          const res = await httpGet(lab.url(domain, scheme), { address: lab.address(domain), localAddress: source, ca: lab.rootCaPem });
          expect(res.error, `${scheme} ${domain} from ${source}`).toBeUndefined();
          expect(res.status).toBe(200);
          expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
          bodies.push(res.body);
        }
      }
      const title = titleOf(bodies[0] ?? Buffer.alloc(0));
      expect(title, domain).toBe(lab.sites.find((s) => s.domain === domain)?.title);
      expect(bodies[0]?.length).toBeGreaterThan(20_000);
      for (const body of bodies) expect(body.equals(bodies[0] ?? Buffer.alloc(0))).toBe(true);
    }
  });

  it('presents a leaf issued by the lab root CA, valid for the domain, and sends no root', async () => {
    const root = new X509Certificate(lab.rootCaPem);
    expect(root.subject).toContain(`CN=${LAB_ROOT_CN}`);
    expect(root.ca).toBe(true);
    for (const domain of DOMAINS) {
      const hs = await tlsHandshake({ host: lab.address(domain), port: lab.ports.https, servername: domain, localAddress: KZ, ca: lab.rootCaPem });
      expect(hs, domain).toMatchObject({ ok: true, authorized: true, alpn: 'http/1.1' });
      // Without the root in the trust store, node reports the chain exactly as sent.
      const sent = await tlsHandshake({ host: lab.address(domain), port: lab.ports.https, servername: domain, localAddress: KZ });
      expect(sent).toMatchObject({ ok: true, authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      expect(sent.chain).toHaveLength(1);
      const leaf = sent.chain[0];
      expect(leaf?.checkIssued(root)).toBe(true);
      expect(leaf?.verify(root.publicKey)).toBe(true);
      expect(leaf?.checkHost(domain)).toBe(domain);
      expect(leaf?.ca).toBe(false);
    }
  });

  it('completes a handshake with a benign control SNI on the same address (certificate for the site)', async () => {
    const hs = await tlsHandshake({ host: lab.address('www.facebook.com'), port: lab.ports.https, servername: 'example.org', localAddress: KZ, ca: lab.rootCaPem });
    expect(hs).toMatchObject({ ok: true, authorized: false, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('serves a large resource and 404s for unknown paths', async () => {
    const large = await httpGet(lab.url('www.youtube.com', 'https', LARGE_RESOURCE_PATH), { address: lab.address('www.youtube.com'), localAddress: KZ, ca: lab.rootCaPem });
    expect(large).toMatchObject({ status: 200, error: undefined });
    expect(large.body.length).toBe(1024 * 1024);
    const missing = await httpGet(lab.url('vlast.kz', 'http', '/no/such/page'), { address: lab.address('vlast.kz'), localAddress: KZ });
    expect(missing.status).toBe(404);
    expect(titleOf(missing.body)).toMatch(/^Page not found/);
  });

  it('the blockpage host answers every name with the blockpage (the target of forged DNS answers)', async () => {
    const res = await httpGet(lab.url('www.facebook.com', 'http'), { address: lab.blockpageAddress, localAddress: KZ });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('Страница заблокирована');
    expect(res.body.toString()).toContain('www.facebook.com');
  });

  it('answers DNS-over-HTTPS (RFC 8484) honestly, GET and POST', async () => {
    expect(lab.dohUrl).toBe(`https://${DOH_DOMAIN}:${lab.ports.https}/dns-query`);
    const query = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'www.instagram.com' }] });
    const res = await httpGet(`${lab.dohUrl}?dns=${query.toString('base64url')}`, { address: lab.address(DOH_DOMAIN), localAddress: KZ, ca: lab.rootCaPem });
    expect(res.headers['content-type']).toBe('application/dns-message');
    const answer = dnsPacket.decode(res.body);
    expect(answer.answers?.map((a) => (a.type === 'A' ? a.data : a.type))).toEqual([lab.address('www.instagram.com')]);
    const posted = await new Promise<Buffer>((resolve, reject) => {
      const req = httpsRequest({
        host: lab.address(DOH_DOMAIN), port: lab.ports.https, path: '/dns-query', method: 'POST', servername: DOH_DOMAIN, ca: lab.rootCaPem,
        localAddress: KZ, agent: false, headers: { host: DOH_DOMAIN, 'content-type': 'application/dns-message', accept: 'application/dns-message' },
      }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      req.end(query);
    });
    expect(dnsPacket.decode(posted).answers?.map((a) => (a.type === 'A' ? a.data : a.type))).toEqual([lab.address('www.instagram.com')]);
  });

  it('handles hundreds of concurrent HTTPS requests from several networks', async () => {
    const sources = [KZ, '127.0.4.1', '127.0.5.1', CONTROL_SOURCE] as const;
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => {
      const domain = DOMAINS[i % DOMAINS.length] ?? 'vlast.kz';
      return httpGet(lab.url(domain), { address: lab.address(domain), localAddress: sources[i % sources.length] ?? KZ, ca: lab.rootCaPem, timeoutMs: 15_000 });
    }));
    expect(results.filter((r) => r.status !== 200).map((r) => r.error)).toEqual([]);
    expect(lab.log.count({ kind: 'http-request', action: 'serve' })).toBeGreaterThanOrEqual(200);
  });

  it('closes cleanly with connections still open', async () => {
    const other = await startLab();
    other.censor.apply({ domains: 'vlast.kz', networks: 'everyone', behaviour: { kind: 'tcp-blackhole' } });
    other.censor.apply({ domains: 'youtube.com', networks: 'everyone', behaviour: { kind: 'throttle', bitsPerSecond: 8_000 } });
    const hanging = httpGet(other.url('vlast.kz', 'http'), { address: other.address('vlast.kz'), localAddress: KZ, timeoutMs: 10_000 });
    const slow = httpGet(other.url('youtube.com', 'http'), { address: other.address('youtube.com'), localAddress: KZ, timeoutMs: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await other.close();
    const [h, s] = await Promise.all([hanging, slow]);
    // The lab dropped both: neither waited for its own timeout.
    expect(h.error).not.toBe('ETIMEDOUT');
    expect(s.error).not.toBe('ETIMEDOUT');
    await other.close(); // idempotent
  });
});
