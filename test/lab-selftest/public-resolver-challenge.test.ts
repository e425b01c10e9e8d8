import { describe, expect, it } from 'vitest';
import { CDN_CHALLENGE_DOMAIN, CONTROL_SOURCE, httpGet, queryDns } from '../lab/src/index.js';
import { useLab } from './use-lab.js';

// The lab's public resolver (a resolver outside the censor's networks) and
// its CDN-fronted site, checked with plain Node clients.

const KZ = '127.0.2.1'; // AS9198 Kazakhtelecom
const NOERROR = 0;
const NXDOMAIN = 3;

const fixture = useLab();

describe('lab public resolver', () => {
  const ask = (server: { host: string; port: number }, name: string, localAddress: string) =>
    queryDns({ server: server.host, port: server.port, name, localAddress, listenMs: 60 });

  it('listens on its own address, the host after the ISP resolver\'s', () => {
    const { resolver, publicResolver } = fixture.lab;
    expect(publicResolver.host).toBe('127.53.0.2');
    expect(publicResolver.address).not.toBe(resolver.address);
  });

  it('ignores the censor\'s resolver rules: NXDOMAIN at the ISP resolver, the address at the public one', async () => {
    fixture.lab.censor.apply({ domains: 'www.facebook.com', networks: ['kazakhtelecom'], behaviour: { kind: 'dns-nxdomain' } });
    expect((await ask(fixture.lab.resolver, 'www.facebook.com', KZ))[0]).toMatchObject({ rcode: NXDOMAIN, addresses: [] });
    expect((await ask(fixture.lab.publicResolver, 'www.facebook.com', KZ))[0]).toMatchObject({ rcode: NOERROR, addresses: [fixture.lab.address('www.facebook.com')] });
  });

  it('is reached by what acts on the path: an injected answer races its genuine one', async () => {
    fixture.lab.censor.apply({ domains: 'youtube.com', networks: ['kazakhtelecom'], behaviour: { kind: 'dns-inject' } });
    const responses = await ask(fixture.lab.publicResolver, 'youtube.com', KZ);
    expect(responses.map((r) => r.addresses)).toEqual([[fixture.lab.blockpageAddress], [fixture.lab.address('youtube.com')]]);
  });
});

describe('lab CDN-fronted site', () => {
  for (const scheme of ['http', 'https'] as const) {
    it(`challenges in-country visitors and serves the control the page (${scheme})`, async () => {
      const url = fixture.lab.url(CDN_CHALLENGE_DOMAIN, scheme);
      const address = fixture.lab.address(CDN_CHALLENGE_DOMAIN);
      const challenged = await httpGet(url, { address, localAddress: KZ, ca: fixture.lab.rootCaPem });
      expect(challenged.status).toBe(403);
      expect(challenged.headers).toMatchObject({ 'cf-mitigated': 'challenge', server: 'cloudflare' });
      expect(challenged.body.toString('utf8')).toContain('<title>Just a moment...</title>');
      const page = await httpGet(url, { address, localAddress: CONTROL_SOURCE, ca: fixture.lab.rootCaPem });
      expect(page.status).toBe(200);
      expect(page.body.toString('utf8')).toContain('<title>Steppe Bazaar');
      expect(fixture.lab.log.count({ kind: 'http-request', source: KZ, action: 'challenge' })).toBe(1);
    });
  }
});
