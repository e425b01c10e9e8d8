import { X509Certificate } from 'node:crypto';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressGuard, Trace, parseCidrList, tcpConnect, tlsHandshake } from '@steppe/shared';
import { makeTestPki, type KeyAndCert, type TestPki } from './helpers/certs.js';
import { closedPort, tcpServer, type ScriptedServer } from './helpers/servers.js';

const guard = new EgressGuard(parseCidrList('127.0.0.0/8,::1/128'));
let pki: TestPki;
const tlsServers: TlsServer[] = [];
const scripted: ScriptedServer[] = [];

async function tlsServerWith(cert: KeyAndCert, alpn: string[] = ['http/1.1']): Promise<number> {
  const server = createTlsServer({ key: cert.key, cert: cert.cert, ALPNProtocols: alpn }, (socket) => {
    socket.on('error', () => undefined);
    socket.end();
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tlsServers.push(server);
  return (server.address() as AddressInfo).port;
}

async function scriptedServer(onConnection: Parameters<typeof tcpServer>[0]): Promise<ScriptedServer> {
  const s = await tcpServer(onConnection);
  scripted.push(s);
  return s;
}

beforeAll(() => {
  pki = makeTestPki();
});
afterAll(async () => {
  await Promise.all(tlsServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await Promise.all(scripted.map((s) => s.close()));
  pki.cleanup();
});

function handshake(port: number, extra: { serverName?: string; extraCa?: string[]; timeoutMs?: number; controlSni?: boolean; guard?: EgressGuard } = {}) {
  return tlsHandshake({
    ip: '127.0.0.1',
    port,
    serverName: extra.serverName ?? 'site.test',
    extraCa: extra.extraCa ?? [pki.caPem],
    timeoutMs: extra.timeoutMs ?? 3000,
    guard: extra.guard ?? guard,
    trace: new Trace(),
    controlSni: extra.controlSni,
  });
}

describe('tcpConnect on loopback', () => {
  it('connects and closes', async () => {
    const server = await scriptedServer(() => undefined);
    const trace = new Trace();
    const c = await tcpConnect({ ip: '127.0.0.1', port: server.port, timeoutMs: 2000, guard, trace, attempt: 1 });
    expect(c).toMatchObject({ ip: '127.0.0.1', port: server.port, failure: '', attempt: 1 });
    expect(c.t1Ms).toBeGreaterThanOrEqual(c.t0Ms);
    expect(trace.observations().tcpConnects).toEqual([c]);
  });

  it('a closed port is connection_refused', async () => {
    const port = await closedPort();
    const c = await tcpConnect({ ip: '127.0.0.1', port, timeoutMs: 2000, guard, trace: new Trace() });
    expect(c.failure).toBe('connection_refused');
  });

  it('binds the local address given', async () => {
    let remote = '';
    const server = await scriptedServer((socket) => {
      remote = socket.remoteAddress ?? '';
    });
    const c = await tcpConnect({ ip: '127.0.0.1', port: server.port, localAddress: '127.0.0.9', timeoutMs: 2000, guard, trace: new Trace() });
    expect(c.failure).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(remote).toBe('127.0.0.9');
  });

  it('an address outside --allow-net is blocked_by_policy and no SYN reaches the server', async () => {
    const server = await scriptedServer(() => undefined);
    const strict = new EgressGuard(parseCidrList('127.0.0.2/32'));
    const c = await tcpConnect({ ip: '127.0.0.1', port: server.port, timeoutMs: 1000, guard: strict, trace: new Trace() });
    expect(c.failure).toBe('blocked_by_policy');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.connections).toBe(0);
  });
});

describe('tlsHandshake: chain, verification and handshake failures against real servers', () => {
  it('records version, cipher, ALPN and the full chain of a valid handshake', async () => {
    const port = await tlsServerWith(pki.valid, ['h2', 'http/1.1']);
    const h = await handshake(port);
    expect(h.failure).toBe('');
    expect(h.verificationError).toBe('');
    expect(h.tlsVersion).toBe('TLSv1.3');
    expect(h.cipherSuite).toMatch(/^TLS_/);
    expect(h.negotiatedAlpn).toBe('h2');
    expect(h.alpnOffered).toEqual(['h2', 'http/1.1']);
    expect(h.peerCertificates).toHaveLength(2);
    const [leaf, root] = h.peerCertificates.map((der) => new X509Certificate(der));
    expect(leaf?.subject).toContain('CN=site.test');
    expect(root?.subject).toContain('CN=Steppe Test Root');
    expect(leaf !== undefined && root !== undefined && leaf.checkIssued(root)).toBe(true);
  });

  it('an unknown authority is ssl_unknown_authority, the chain still recorded', async () => {
    const port = await tlsServerWith(pki.valid);
    const h = await handshake(port, { extraCa: [] });
    expect(h.failure).toBe('');
    expect(h.verificationError).toBe('ssl_unknown_authority');
    expect(h.peerCertificates.length).toBeGreaterThan(0);
    const self = await handshake(await tlsServerWith(pki.selfSigned));
    expect(self.verificationError).toBe('ssl_unknown_authority');
    expect(self.peerCertificates).toHaveLength(1);
  });

  it('a certificate for another name is ssl_invalid_hostname', async () => {
    const port = await tlsServerWith(pki.wrongName);
    const h = await handshake(port);
    expect(h.failure).toBe('');
    expect(h.verificationError).toBe('ssl_invalid_hostname');
  });

  it('an expired certificate is ssl_invalid_certificate', async () => {
    const port = await tlsServerWith(pki.expired);
    const h = await handshake(port);
    expect(h.verificationError).toBe('ssl_invalid_certificate');
  });

  it('a control-SNI handshake is flagged and judged against its own name', async () => {
    const port = await tlsServerWith(pki.valid);
    const h = await handshake(port, { serverName: 'example.org', controlSni: true });
    expect(h.controlSni).toBe(true);
    expect(h.serverName).toBe('example.org');
    expect(h.failure).toBe('');
    expect(h.verificationError).toBe('ssl_invalid_hostname');
  });

  it('an RST after the ClientHello is connection_reset', async () => {
    const server = await scriptedServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const h = await handshake(server.port);
    expect(h.failure).toBe('connection_reset');
    expect(h.tlsVersion).toBe('');
  });

  it('a FIN after the ClientHello is eof_error', async () => {
    const server = await scriptedServer((socket) => socket.once('data', () => socket.end()));
    const h = await handshake(server.port);
    expect(h.failure).toBe('eof_error');
  });

  it('a silent server is generic_timeout_error', async () => {
    const server = await scriptedServer(() => undefined);
    const h = await handshake(server.port, { timeoutMs: 200 });
    expect(h.failure).toBe('generic_timeout_error');
    expect(h.t1Ms - h.t0Ms).toBeGreaterThanOrEqual(150);
  });

  it('garbage instead of a ServerHello is ssl_failed_handshake', async () => {
    const server = await scriptedServer((socket) => socket.once('data', () => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const h = await handshake(server.port);
    expect(h.failure).toBe('ssl_failed_handshake');
  });

  it('a closed port is connection_refused; an address outside --allow-net is blocked_by_policy with no connection', async () => {
    expect((await handshake(await closedPort())).failure).toBe('connection_refused');
    const server = await scriptedServer(() => undefined);
    const h = await handshake(server.port, { guard: new EgressGuard(parseCidrList('::1/128')) });
    expect(h.failure).toBe('blocked_by_policy');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.connections).toBe(0);
  });
});
