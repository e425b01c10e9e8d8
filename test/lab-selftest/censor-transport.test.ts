import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CONTROL_SOURCE, STATE_ROOT_CN, httpGet, tcpConnect, tlsHandshake,
} from '../lab/src/index.js';
import { useLab } from './use-lab.js';

const KZ = '127.0.2.1'; // AS9198 Kazakhtelecom
const BEELINE = '127.0.4.1';
const KCELL = '127.0.5.1';

const fixture = useLab();

// Handshakes expected to stall wait STALL_MS; the others get a generous timeout (loaded CI machines).
const STALL_MS = 600;

function handshake(domain: string, source: string, servername = domain, ca: string | string[] = fixture.lab.rootCaPem, timeoutMs = 5000) {
  return tlsHandshake({ host: fixture.lab.address(domain), port: fixture.lab.ports.https, servername, localAddress: source, ca, timeoutMs });
}

function stalledHandshake(domain: string, source: string, servername = domain) {
  return handshake(domain, source, servername, fixture.lab.rootCaPem, STALL_MS);
}

function connect(domain: string, source: string, scheme: 'http' | 'https' = 'https') {
  // Send a byte: a censor may act on the first data (see resetOnFirstData).
  return tcpConnect({ host: fixture.lab.address(domain), port: fixture.lab.ports[scheme], localAddress: source, send: 'G', holdMs: 200 });
}

describe('censor: TCP stage (by the address connected to)', () => {
  it('tcp-reset resets the in-country connection on its first bytes; the control is untouched', async () => {
    fixture.lab.censor.apply({ domains: 'www.facebook.com', networks: ['kazakhtelecom'], behaviour: { kind: 'tcp-reset' } });
    expect(await connect('www.facebook.com', KZ)).toMatchObject({ connected: true, error: 'ECONNRESET', after: 'reset' });
    expect(await connect('www.facebook.com', KZ, 'http')).toMatchObject({ connected: true, after: 'reset' });
    expect(await handshake('www.facebook.com', KZ)).toMatchObject({ ok: false, error: 'ECONNRESET' });
    expect(await handshake('www.facebook.com', CONTROL_SOURCE)).toMatchObject({ ok: true, authorized: true });
    expect(await handshake('www.facebook.com', BEELINE)).toMatchObject({ ok: true, authorized: true });
    expect(fixture.lab.log.count({ kind: 'connection', action: 'reset', source: KZ })).toBe(3);
    expect(fixture.lab.log.count({ kind: 'client-hello', source: KZ })).toBe(0);
  });

  it('tcp-reset at accept resets without waiting for data', async () => {
    fixture.lab.censor.apply({ domains: 'vlast.kz', networks: ['kazakhtelecom'], behaviour: { kind: 'tcp-reset', when: 'accept' } });
    const result = await tcpConnect({ host: fixture.lab.address('vlast.kz'), port: fixture.lab.ports.https, localAddress: KZ, holdMs: 300 });
    expect(result.error).toBe('ECONNRESET');
  });

  it('tcp-blackhole accepts and then says nothing', async () => {
    fixture.lab.censor.apply({ domains: 'www.youtube.com', networks: ['kazakhtelecom'], behaviour: { kind: 'tcp-blackhole' } });
    expect(await connect('www.youtube.com', KZ)).toMatchObject({ connected: true, error: undefined, after: 'open' });
    expect(await stalledHandshake('www.youtube.com', KZ)).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    expect(await handshake('www.youtube.com', CONTROL_SOURCE)).toMatchObject({ ok: true });
  });

  it('a site down for everyone fails for the control too; timeout mode hangs', async () => {
    fixture.lab.censor.apply({ domains: 'vlast.kz', networks: 'everyone', behaviour: { kind: 'down' } });
    for (const source of [KZ, CONTROL_SOURCE, '127.0.0.1']) {
      expect(await handshake('vlast.kz', source), source).toMatchObject({ ok: false, error: 'ECONNRESET' });
    }
    fixture.lab.censor.clear();
    fixture.lab.censor.apply({ domains: 'vlast.kz', networks: 'everyone', behaviour: { kind: 'down', mode: 'timeout' } });
    expect(await stalledHandshake('vlast.kz', CONTROL_SOURCE)).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
  });

  it('a flaky site fails the first connection carrying data from each source, then works', async () => {
    fixture.lab.censor.apply({ domains: 'instagram.com', networks: 'everyone', behaviour: { kind: 'flaky' } });
    // A bare connect (a TCP reachability check) neither fails nor counts.
    expect(await tcpConnect({ host: fixture.lab.address('instagram.com'), port: fixture.lab.ports.https, localAddress: KZ, holdMs: 50 })).toMatchObject({ connected: true, after: 'open' });
    expect(await handshake('instagram.com', KZ)).toMatchObject({ ok: false, error: 'ECONNRESET' });
    expect(await handshake('instagram.com', KZ)).toMatchObject({ ok: true, authorized: true });
    expect(await handshake('instagram.com', CONTROL_SOURCE)).toMatchObject({ ok: false, error: 'ECONNRESET' });
    expect(await handshake('instagram.com', CONTROL_SOURCE)).toMatchObject({ ok: true });
    expect(await handshake('instagram.com', '127.0.2.2')).toMatchObject({ ok: false });
    expect(fixture.lab.log.count({ kind: 'client-hello', action: 'flaky-reset' })).toBe(3);
    // Over HTTP the first request is reset, the next served.
    const url = fixture.lab.url('instagram.com', 'http');
    expect((await httpGet(url, { address: fixture.lab.address('instagram.com'), localAddress: BEELINE })).error).toBe('ECONNRESET');
    expect((await httpGet(url, { address: fixture.lab.address('instagram.com'), localAddress: BEELINE })).status).toBe(200);
  });

  it('a total shutdown silences every site for one network; reset mode resets', async () => {
    const id = fixture.lab.censor.shutdown('kcell');
    for (const domain of ['www.facebook.com', 'vlast.kz']) {
      expect(await connect(domain, KCELL)).toMatchObject({ connected: true, after: 'open' });
      expect(await stalledHandshake(domain, KCELL)).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
      expect(await handshake(domain, KZ)).toMatchObject({ ok: true });
    }
    fixture.lab.censor.lift(id);
    fixture.lab.censor.shutdown('kcell', 'reset');
    expect(await handshake('vlast.kz', KCELL)).toMatchObject({ ok: false, error: 'ECONNRESET' });
    expect(fixture.lab.log.count({ kind: 'http-request', network: 'kcell' })).toBe(0);
  });
});

describe('censor: TLS stage (by the SNI in the ClientHello)', () => {
  it('sni-reset resets only a ClientHello naming the domain, whatever the address', async () => {
    fixture.lab.censor.apply({ domains: 'www.facebook.com', networks: ['kazakhtelecom'], behaviour: { kind: 'sni-reset' } });
    expect(await handshake('www.facebook.com', KZ)).toMatchObject({ ok: false, error: 'ECONNRESET' });
    // A benign SNI to the same address passes: the block is by name, not by IP.
    expect(await handshake('www.facebook.com', KZ, 'example.org')).toMatchObject({ ok: true, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    // The blocked name to another address is reset too.
    expect(await handshake('vlast.kz', KZ, 'www.facebook.com')).toMatchObject({ ok: false, error: 'ECONNRESET' });
    expect(await handshake('www.facebook.com', CONTROL_SOURCE)).toMatchObject({ ok: true, authorized: true });
    expect(fixture.lab.log.events({ kind: 'client-hello', action: 'sni-reset' }).map((e) => e.kind === 'client-hello' && e.sni)).toEqual(['www.facebook.com', 'www.facebook.com']);
  });

  it('sni-timeout stalls only a ClientHello naming the domain', async () => {
    fixture.lab.censor.apply({ domains: 'www.youtube.com', networks: 'in-country', behaviour: { kind: 'sni-timeout' } });
    expect(await stalledHandshake('www.youtube.com', BEELINE)).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    expect(await handshake('www.youtube.com', BEELINE, 'example.org')).toMatchObject({ ok: true });
    expect(await handshake('www.youtube.com', CONTROL_SOURCE)).toMatchObject({ ok: true, authorized: true });
    expect(fixture.lab.log.count({ kind: 'client-hello', sni: 'www.youtube.com', action: 'sni-timeout', network: 'beeline' })).toBe(1);
  });

  it('interception presents a leaf issued by the state root, subject and SAN copied, leaf only', async () => {
    fixture.lab.censor.apply({ domains: ['www.instagram.com', 'www.facebook.com'], networks: ['kazakhtelecom'], behaviour: { kind: 'tls-intercept' } });
    const stateRoot = new X509Certificate(fixture.lab.stateRootPem);
    const labRoot = new X509Certificate(fixture.lab.rootCaPem);
    expect(stateRoot.subject).toContain(`CN=${STATE_ROOT_CN}`);
    for (const domain of ['www.instagram.com', 'www.facebook.com']) {
      const original = (await handshake(domain, CONTROL_SOURCE, domain, [])).chain[0];
      const forged = await handshake(domain, KZ, domain, []);
      expect(forged).toMatchObject({ ok: true, authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      // The middlebox sends its leaf alone, never the root.
      expect(forged.chain).toHaveLength(1);
      const leaf = forged.chain[0];
      expect(leaf?.checkIssued(stateRoot)).toBe(true);
      expect(leaf?.verify(stateRoot.publicKey)).toBe(true);
      expect(leaf?.checkIssued(labRoot)).toBe(false);
      expect(leaf?.subject).toBe(original?.subject);
      expect(leaf?.subjectAltName).toBe(original?.subjectAltName);
      expect(leaf?.fingerprint256).not.toBe(original?.fingerprint256);
      expect(leaf?.publicKey.export({ format: 'der', type: 'spki' })).not.toEqual(original?.publicKey.export({ format: 'der', type: 'spki' }));
      // Validates against the lab root: no. Against the state root (a user who installed it): yes.
      expect(await handshake(domain, KZ)).toMatchObject({ ok: true, authorized: false });
      expect(await handshake(domain, KZ, domain, fixture.lab.stateRootPem)).toMatchObject({ ok: true, authorized: true });
    }
    // The control sees the real certificate.
    expect(await handshake('www.instagram.com', CONTROL_SOURCE)).toMatchObject({ ok: true, authorized: true });
  });

  it('an intercepted connection still carries the real content', async () => {
    fixture.lab.censor.apply({ domains: 'www.instagram.com', networks: ['kazakhtelecom'], behaviour: { kind: 'tls-intercept' } });
    const url = fixture.lab.url('www.instagram.com');
    const viaMiddlebox = await httpGet(url, { address: fixture.lab.address('www.instagram.com'), localAddress: KZ, ca: [fixture.lab.rootCaPem, fixture.lab.stateRootPem] });
    const direct = await httpGet(url, { address: fixture.lab.address('www.instagram.com'), localAddress: CONTROL_SOURCE, ca: fixture.lab.rootCaPem });
    expect(viaMiddlebox.status).toBe(200);
    expect(viaMiddlebox.body.equals(direct.body)).toBe(true);
    expect(fixture.lab.log.events({ kind: 'http-request', source: KZ })).toEqual([expect.objectContaining({ intercepted: true, host: 'www.instagram.com' })]);
    // Without the state root the probe refuses the forged chain.
    expect((await httpGet(url, { address: fixture.lab.address('www.instagram.com'), localAddress: KZ, ca: fixture.lab.rootCaPem })).error).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('the log tells the egress-guard test whether anything reached a site', async () => {
    expect(fixture.lab.log.count({ domain: 'www.facebook.com' })).toBe(0);
    await handshake('www.facebook.com', KZ);
    expect(fixture.lab.log.count({ kind: 'connection', domain: 'www.facebook.com', source: KZ })).toBe(1);
    expect(fixture.lab.log.count({ kind: 'client-hello', sni: 'www.facebook.com' })).toBe(1);
  });
});
