import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressGuard, Trace, dnsAddresses, dohLookup, parseCidrList, wire } from '@steppe/shared';
import { makeTestPki, type TestPki } from './helpers/certs.js';

describe('dohLookup (RFC 8484) against a loopback DoH server', () => {
  let pki: TestPki;
  let server: Server;
  let port = 0;
  let requests = 0;

  beforeAll(async () => {
    pki = makeTestPki();
    server = createHttpsServer({ key: pki.valid.key, cert: pki.valid.cert }, (req, res) => {
      requests += 1;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST' || req.headers['content-type'] !== 'application/dns-message') {
          res.writeHead(415).end();
          return;
        }
        const query = dnsPacket.decode(Buffer.concat(chunks));
        const q = query.questions?.[0];
        const body = dnsPacket.encode({
          type: 'response',
          id: query.id ?? 0,
          flags: dnsPacket.RECURSION_AVAILABLE,
          questions: query.questions ?? [],
          answers: q?.name === 'site.test' ? [{ type: 'A', name: 'site.test', ttl: 42, class: 'IN', data: '93.184.216.34' }] : [],
        });
        res.writeHead(200, { 'content-type': 'application/dns-message' }).end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    pki.cleanup();
  });

  const doh = (hostname: string, guard: EgressGuard) =>
    dohLookup({ url: `https://site.test:${port}/dns-query`, address: '127.0.0.1', hostname, queryType: 'A', extraCa: [pki.caPem], timeoutMs: 3000, guard, trace: new Trace() });

  it('asks over HTTPS and records the answer', async () => {
    const q = await doh('site.test', new EgressGuard(parseCidrList('127.0.0.0/8')));
    expect(q.failure).toBe('');
    expect(q.transport).toBe(wire.DnsTransport.DNS_TRANSPORT_DOH);
    expect(q.resolver).toBe(`https://site.test:${port}/dns-query`);
    expect(q.responses[0]?.answers).toEqual([{ answerType: 'A', value: '93.184.216.34', ttl: 42 }]);
    expect(dnsAddresses(q)).toEqual(['93.184.216.34']);
    expect((await doh('none.test', new EgressGuard(parseCidrList('127.0.0.0/8')))).failure).toBe('dns_no_answer');
  });

  it('refuses a DoH server outside --allow-net before connecting', async () => {
    const before = requests;
    const q = await doh('site.test', new EgressGuard(parseCidrList('::1/128')));
    expect(q.failure).toBe('blocked_by_policy');
    expect(requests).toBe(before);
  });
});
