import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EgressGuard, encodeMeasurement, measurementProblem, parseCidrList, wire } from '@steppe/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTIVITY_TEST_NAME, measureConnectivity } from '../../src/connectivity/connectivity-test.js';
import { guardedLookup } from '../../src/connectivity/guarded-lookup.js';
import { createGuardedHttpGet } from '../../src/connectivity/http-get.js';

// The probe's own connectivity measurement, against loopback only.
describe('measureConnectivity', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.method === 'POST' ? 200 : 405, { 'x-steppe-client-address': req.socket.remoteAddress ?? '' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const guard = new EgressGuard(parseCidrList('127.0.0.0/8'));
  const resolver = { host: '127.0.0.1', port: 9 };

  it('reachable: TCP and HTTP observed, accessible, and the echoed address learned (not stored)', async () => {
    const r = await measureConnectivity({ baseUrl: url, role: 'control', probeId: 'p1', resolver, guard, localAddress: '127.0.2.7', timeoutMs: 3000 });
    expect(r.reachable).toBe(true);
    expect(r.clientAddress).toBe('127.0.2.7');
    const m = wire.Measurement.decode(encodeMeasurement(r.measurement));
    expect(measurementProblem(m)).toBeUndefined();
    expect(m.testName).toBe(CONNECTIVITY_TEST_NAME);
    expect(m.observations?.tcpConnects?.[0]).toMatchObject({ ip: '127.0.0.1', failure: '' });
    expect(m.observations?.httpRequests?.[0]).toMatchObject({ statusCode: 405, url: `${url}/api/v1/control` });
    expect(m.analysis).toMatchObject({ verdict: 'accessible', accessible: true, anomaly: false });
    expect(m.annotations?.['connectivity_role']).toBe('control');
    expect(Buffer.from(encodeMeasurement(m)).includes('127.0.2.7')).toBe(false);
    expect(r.bytesMoved).toBeGreaterThan(0);
  });

  it('a closed port: unreachable at tcp_connect, an anomaly with the failure, still a valid measurement', async () => {
    const r = await measureConnectivity({ baseUrl: 'http://127.0.0.1:1', role: 'collector', probeId: 'p1', resolver, guard, timeoutMs: 3000 });
    expect(r.reachable).toBe(false);
    const m = wire.Measurement.decode(encodeMeasurement(r.measurement));
    expect(measurementProblem(m)).toBeUndefined();
    expect(m.analysis).toMatchObject({ verdict: '', accessible: false, anomaly: true, failure: 'connection_refused', failedStep: 'tcp_connect' });
    expect(m.analysis?.evidence).toEqual(['collector unreachable: tcp_connect connection_refused']);
  });

  it('a name that cannot be resolved: unreachable at dns', async () => {
    const r = await measureConnectivity({ baseUrl: 'https://collector.steppe.test', role: 'collector', probeId: 'p1', resolver, guard, timeoutMs: 2000 });
    expect(r.reachable).toBe(false);
    expect(r.measurement.analysis).toMatchObject({ failedStep: 'dns', anomaly: true });
    expect(r.measurement.observations?.dnsQueries?.length).toBeGreaterThan(0);
  });

  it('outside the allow-list: blocked_by_policy, no packet sent', async () => {
    const r = await measureConnectivity({ baseUrl: 'http://192.0.2.1:8080', role: 'collector', probeId: 'p1', resolver, guard, timeoutMs: 2000 });
    expect(r.measurement.analysis).toMatchObject({ failure: 'blocked_by_policy', failedStep: 'tcp_connect' });
  });
});

describe('createGuardedHttpGet egress', () => {
  const guard = new EgressGuard(parseCidrList('127.0.0.0/8'));
  const lookup = guardedLookup({ resolver: { host: '127.0.0.1', port: 9 }, guard, timeoutMs: 500 });

  it('refuses a proxy outside the allow-list, configured or from the environment, before connecting', async () => {
    const viaConfig = createGuardedHttpGet({ guard, lookup, proxy: 'http://192.0.2.1:3128' });
    await expect(viaConfig('http://127.0.0.1:1/x', { timeoutMs: 1000, maxBytes: 10 })).rejects.toThrow(/egress to 192\.0\.2\.1 refused/);
    const viaEnv = createGuardedHttpGet({ guard, lookup, env: { HTTPS_PROXY: 'http://192.0.2.2:3128' } });
    await expect(viaEnv('https://127.0.0.1:1/x', { timeoutMs: 1000, maxBytes: 10 })).rejects.toThrow(/egress to 192\.0\.2\.2 refused/);
  });

  it('refuses a body over maxBytes', async () => {
    const server = createServer((_req, res) => res.end('x'.repeat(5000)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const get = createGuardedHttpGet({ guard, lookup });
      await expect(get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { timeoutMs: 2000, maxBytes: 1000 })).rejects.toThrow(/larger than 1000 bytes/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
