import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientResponse, type NamespaceLab, builtEntryPoints, namespaceTierSupport, startNamespaceLab,
} from '../lab/src/netns/index.js';

// The namespace tier: what only packets show. Needs root, ip and iptables
// (CI runs as root); anywhere else it skips, loudly.
const support = namespaceTierSupport();
if (!support.ok) {
  console.warn(`\n*** SKIPPING the censorship lab's namespace tier: ${support.reason} ***\n`);
}

type Of<K extends ClientResponse['op']> = Extract<ClientResponse, { op: K }>;

describe.runIf(support.ok)('namespace tier (root)', () => {
  let ns: NamespaceLab;

  beforeAll(async () => {
    ns = await startNamespaceLab({ largeBytes: 192 * 1024 });
  });

  afterAll(async () => {
    await ns?.close();
    // Nothing left behind.
    if (ns !== undefined) {
      const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
      for (const name of Object.values(ns.names)) expect(listed).not.toContain(name);
    }
  });

  afterEach(async () => {
    await ns.packets.clear();
    await ns.lab.clear();
  });

  const probe = async <K extends ClientResponse['op']>(op: K, request: Record<string, unknown>): Promise<Of<K>> =>
    (await ns.client('probe', { op, ...request } as never)) as Of<K>;
  const control = async <K extends ClientResponse['op']>(op: K, request: Record<string, unknown>): Promise<Of<K>> =>
    (await ns.client('control', { op, ...request } as never)) as Of<K>;

  it('serves the honest lab from the world namespace to both sides, on real ports', async () => {
    expect(ns.world.ports).toEqual({ http: 80, https: 443 });
    const dns = await probe('dns', { server: ns.world.resolver.host, port: 53, name: 'www.facebook.com' });
    expect(dns.responses).toEqual([expect.objectContaining({ rcode: 0, addresses: [ns.address('www.facebook.com')] })]);
    for (const side of [probe, control]) {
      const page = await side('http', { url: ns.url('www.facebook.com'), address: ns.address('www.facebook.com'), caFiles: [ns.world.rootCaFile] });
      expect(page).toMatchObject({ status: 200 });
      expect(page.error).toBeUndefined();
      expect(page.body).toContain('<title>Facebook - log in or sign up</title>');
    }
    expect(await ns.lab.count({ kind: 'http-request', network: 'probe-network' })).toBe(1);
    expect(await ns.lab.count({ kind: 'http-request', network: 'control' })).toBe(1);
  });

  it('a SYN answered by RST: the probe\'s connect is refused, the control connects', async () => {
    const address = ns.address('www.facebook.com');
    await ns.packets.apply({ kind: 'syn-reset', address, port: 443 });
    expect(await probe('tcp', { host: address, port: 443 })).toMatchObject({ connected: false, error: 'ECONNREFUSED' });
    expect(await probe('tcp', { host: address, port: 80 })).toMatchObject({ connected: true });
    expect(await control('tcp', { host: address, port: 443 })).toMatchObject({ connected: true });
  });

  it('a SYN dropped: the probe\'s connect times out', async () => {
    const address = ns.address('www.youtube.com');
    await ns.packets.apply({ kind: 'syn-drop', address });
    expect(await probe('tcp', { host: address, port: 443, timeoutMs: 800 })).toMatchObject({ connected: false, error: 'ETIMEDOUT' });
    expect(await control('tcp', { host: address, port: 443 })).toMatchObject({ connected: true });
    // Nothing reached the server from the probe.
    expect(await ns.lab.count({ kind: 'connection', network: 'probe-network', domain: 'www.youtube.com' })).toBe(0);
  });

  it('SNI string match: a RST for the ClientHello naming the domain; another SNI to the same address passes', async () => {
    const address = ns.address('www.instagram.com');
    await ns.packets.apply({ kind: 'sni-reset', sni: 'www.instagram.com' });
    const tls = { host: address, port: 443, caFiles: [ns.world.rootCaFile] };
    expect(await probe('tls', { ...tls, servername: 'www.instagram.com' })).toMatchObject({ ok: false, error: 'ECONNRESET' });
    expect(await probe('tls', { ...tls, servername: 'example.org' })).toMatchObject({ ok: true, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(await control('tls', { ...tls, servername: 'www.instagram.com' })).toMatchObject({ ok: true, authorized: true });
    await ns.packets.clear();
    await ns.packets.apply({ kind: 'sni-drop', sni: 'www.instagram.com' });
    expect(await probe('tls', { ...tls, servername: 'www.instagram.com', timeoutMs: 800 })).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
  });

  it('rate policing holds the probe\'s download near the policed rate, the control\'s is unpoliced', async () => {
    const bytesPerSecond = 50_000;
    const address = ns.address('vlast.kz');
    await ns.packets.apply({ kind: 'police', address, bytesPerSecond });
    const request = { url: ns.url('vlast.kz', 'http', '/static/large.bin'), address, timeoutMs: 20_000 };
    const slow = await probe('http', request);
    const fast = await control('http', request);
    expect(slow).toMatchObject({ status: 200, bodyBytes: 192 * 1024 });
    expect(slow.error).toBeUndefined();
    expect(fast).toMatchObject({ status: 200, bodyBytes: 192 * 1024 });
    const rate = (r: Of<'http'>): number => r.bodyBytes / (Math.max(r.bodyMs, 1) / 1000);
    // An upper bound (policing never speeds a transfer up), with room for the
    // burst (one second of traffic, a quarter of the file).
    expect(rate(slow)).toBeLessThan(bytesPerSecond * 2);
    expect(rate(slow)).toBeLessThan(rate(fast) / 10);
  });

  it('the world lab still censors by source address (interception in the namespace tier)', async () => {
    await ns.lab.apply({ domains: 'www.facebook.com', networks: ['probe-network'], behaviour: { kind: 'tls-intercept' } });
    const hs = await probe('tls', { host: ns.address('www.facebook.com'), port: 443, servername: 'www.facebook.com', timeoutMs: 5000 });
    expect(hs).toMatchObject({ ok: true, authorized: false });
    expect(new X509Certificate(hs.chain[0]?.pem ?? '').checkIssued(new X509Certificate(ns.world.stateRootPem))).toBe(true);
  });

  it('a shutdown drops everything from the probe network, DNS included', async () => {
    await ns.packets.apply({ kind: 'shutdown' });
    expect((await probe('dns', { server: ns.world.resolver.host, port: 53, name: 'vlast.kz', timeoutMs: 500 })).responses).toEqual([]);
    expect(await probe('tcp', { host: ns.address('vlast.kz'), port: 443, timeoutMs: 500 })).toMatchObject({ connected: false, error: 'ETIMEDOUT' });
    expect((await control('dns', { server: ns.world.resolver.host, port: 53, name: 'vlast.kz' })).responses).toHaveLength(1);
  });

  it('the guard refuses to run anything in the root namespace', () => {
    const entry = builtEntryPoints();
    const rootInode = String(statSync('/proc/self/ns/net').ino);
    const result = spawnSync(process.execPath, [entry.guard, rootInode, entry.client, '{"op":"tcp","host":"198.18.2.10","port":443}'], { encoding: 'utf8' });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/refusing to start: this process is in the root network namespace/);
    expect(result.stdout).toBe('');
  });

  it('refuses a probe run with any --allow-net but 198.18.0.0/15, before a process starts', async () => {
    await expect(ns.runProbe(['measure', ns.url('vlast.kz'), '--allow-net', '127.0.0.0/8'])).rejects.toThrow(/198.18.0.0\/15 alone/);
  });
});
