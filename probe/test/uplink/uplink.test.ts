import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { wire } from '@steppe/shared';
import { Uplink } from '../../src/uplink/index.js';
import { hex, probeWith, tempRoot } from './helpers.js';
import { ScriptedCollector, welcome } from './scripted-collector.js';

const root = tempRoot('steppe-uplink-');
afterAll(() => root.remove());
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function collector(handler: ConstructorParameters<typeof ScriptedCollector>[0], tls?: { key: string; cert: string }): ScriptedCollector {
  const c = new ScriptedCollector(handler, tls);
  cleanups.push(() => c.close());
  return c;
}

function uplinkFor(options: ConstructorParameters<typeof Uplink>[0]): Uplink {
  const u = new Uplink({ backoff: { baseMs: 10, capMs: 50 }, connectTimeoutMs: 2_000, ...options });
  cleanups.push(() => u.close());
  return u;
}

/** A refusing address: a port that was just bound and closed. */
async function deadUrl(): Promise<string> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

describe('Uplink against a scripted collector', () => {
  it('says hello, applies the Welcome limits, keeps at most K batches in flight, and deletes only acked rows', async () => {
    const pending: Array<() => void> = [];
    let maxOutstanding = 0;
    const c = collector((f, ctx) => {
      if (f.body === 'hello') return ctx.send(welcome({ maxBatchMeasurements: 7, maxInFlight: 2 }, 'v42'));
      if (f.body !== 'batch') return undefined;
      pending.push(() => ctx.ackAll(f));
      maxOutstanding = Math.max(maxOutstanding, pending.length);
      // Ack lazily, two at a time, so the probe hits its in-flight limit.
      if (pending.length >= 2) setTimeout(() => pending.splice(0).forEach((a) => a()), 5);
      else setTimeout(() => pending.splice(0).forEach((a) => a()), 30);
      return undefined;
    });
    const url = await c.listen();
    const p = probeWith(root.path, 50);
    const u = uplinkFor({ collectors: [url], identity: p.identity, outbox: p.outbox, maxBatchMeasurements: 100, maxInFlight: 8, testListVersion: 'v1' });
    const versions: string[] = [];
    u.on('testListVersion', (e) => versions.push(e.version));
    const r = await u.flush({ timeoutMs: 10_000 });
    expect(r).toEqual({ acked: 50, pending: 0 });
    const hello = c.received[0]?.frame.hello;
    expect(hello?.probeId).toBe(p.identity.probeId);
    expect(hello?.testListVersion).toBe('v1');
    expect(versions).toEqual(['v42']);
    const sizes = c.batches().map((b) => b.batch?.measurements?.length ?? 0);
    expect(Math.max(...sizes)).toBe(7);
    expect(maxOutstanding).toBeLessThanOrEqual(2);
    // Every measurement once, in measurement-time order across batches.
    const sent = c.batches().flatMap((b) => (b.batch?.measurements ?? []).map((m) => hex(wire.Measurement.decode(m).id)));
    expect(sent).toEqual(p.ids);
    p.outbox.close();
  });

  it('resends unacked batches after a reconnect, with the same ids', async () => {
    let dropFirst = true;
    const c = collector((f, ctx) => {
      if (f.body === 'hello') return ctx.send(welcome({ maxBatchMeasurements: 5 }));
      if (f.body !== 'batch') return undefined;
      if (dropFirst) {
        dropFirst = false;
        ctx.ws.terminate(); // dies before acking
        return undefined;
      }
      return ctx.ackAll(f);
    });
    const url = await c.listen();
    const p = probeWith(root.path, 12);
    const u = uplinkFor({ collectors: [url], identity: p.identity, outbox: p.outbox, maxInFlight: 1 });
    const r = await u.flush({ timeoutMs: 10_000 });
    expect(r.pending).toBe(0);
    const batches = c.received.filter((x) => x.frame.body === 'batch');
    const first = batches[0];
    const resend = batches.find((x) => x.connection === 2);
    expect(first?.connection).toBe(1);
    const idsOf = (f: typeof first): string[] => (f?.frame.batch?.measurements ?? []).map((m) => hex(wire.Measurement.decode(m).id));
    expect(idsOf(resend)).toEqual(idsOf(first));
    p.outbox.close();
  });

  it('fails over to the next collector in order', async () => {
    const c = collector((f, ctx) => (f.body === 'hello' ? ctx.send(welcome()) : f.body === 'batch' ? ctx.ackAll(f) : undefined));
    const good = await c.listen();
    const dead = await deadUrl();
    const p = probeWith(root.path, 3);
    const u = uplinkFor({ collectors: [dead, good], identity: p.identity, outbox: p.outbox });
    const errors: string[] = [];
    u.on('error', (e) => errors.push(`${e.url} ${e.code}`));
    const r = await u.flush({ timeoutMs: 10_000 });
    expect(r.pending).toBe(0);
    expect(errors[0]).toContain('connection_refused');
    expect(errors[0]).toContain(new URL(dead).port);
    p.outbox.close();
  });

  it('backs off with full jitter between rounds, up to the cap', async () => {
    const dead = await deadUrl();
    const p = probeWith(root.path, 1);
    const u = uplinkFor({ collectors: [dead], identity: p.identity, outbox: p.outbox, backoff: { baseMs: 4, capMs: 32 }, random: () => 0.999 });
    const waits: number[] = [];
    u.on('retrying', (e) => waits.push(e.inMs));
    await u.flush({ timeoutMs: 600 });
    expect(waits.slice(0, 5)).toEqual([3, 7, 15, 31, 31]);
    expect(p.outbox.stats().count).toBe(1);
    p.outbox.close();
  });

  it('sets aside a measurement the collector rejects as invalid, after narrowing the batch down', async () => {
    const p = probeWith(root.path, 6);
    const poisoned = p.ids[2];
    const c = collector((f, ctx) => {
      if (f.body === 'hello') return ctx.send(welcome());
      if (f.body !== 'batch') return undefined;
      const ids = ctx.ids(f).map(hex);
      const seq = wireSeq(f.batch?.header ?? new Uint8Array());
      if (ids.includes(poisoned ?? '')) return ctx.send({ error: { code: 'STEPPE_ERR_MEASUREMENT_INVALID', message: 'measurement 0: bad', sequence: seq, closeCode: 0 } });
      return ctx.ackAll(f);
    });
    const url = await c.listen();
    const u = uplinkFor({ collectors: [url], identity: p.identity, outbox: p.outbox, maxInFlight: 1 });
    const dropped: string[] = [];
    u.on('dropped', (e) => dropped.push(e.reason));
    const r = await u.flush({ timeoutMs: 10_000 });
    expect(dropped).toEqual(['rejected_by_collector']);
    expect(r.pending).toBe(1);
    expect(p.outbox.stats()).toMatchObject({ count: 1, quarantined: 1 });
    p.outbox.close();
  });
});

function wireSeq(header: Uint8Array): number {
  return wire.BatchHeader.decode(header).sequence;
}

describe('Uplink over wss:// and proxies', () => {
  const certDir = join(root.path, 'tls');
  let tls: { key: string; cert: string; sha256: string } | undefined;
  const getTls = (): { key: string; cert: string; sha256: string } => {
    if (tls !== undefined) return tls;
    execFileSync('mkdir', ['-p', certDir]);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem')], { stdio: 'ignore' });
    const cert = readFileSync(join(certDir, 'cert.pem'), 'utf8');
    const der = Buffer.from(cert.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    tls = { key: readFileSync(join(certDir, 'key.pem'), 'utf8'), cert, sha256: createHash('sha256').update(der).digest('hex') };
    return tls;
  };
  const acking = (f: Parameters<ConstructorParameters<typeof ScriptedCollector>[0]>[0], ctx: Parameters<ConstructorParameters<typeof ScriptedCollector>[0]>[1]): void => {
    if (f.body === 'hello') ctx.send(welcome());
    else if (f.body === 'batch') ctx.ackAll(f);
  };

  it('verifies the certificate normally: an untrusted one is refused', async () => {
    const t = getTls();
    const c = collector(acking, t);
    const url = await c.listen();
    const p = probeWith(root.path, 2);
    const u = uplinkFor({ collectors: [url], identity: p.identity, outbox: p.outbox });
    const errors: string[] = [];
    u.on('error', (e) => errors.push(e.code));
    const r = await u.flush({ timeoutMs: 500 });
    expect(r.pending).toBe(2);
    expect(errors[0]).toBe('ssl_unknown_authority');
    p.outbox.close();
  });

  it('accepts a trusted certificate whose SHA-256 matches the pin, refuses a mismatching pin', async () => {
    const t = getTls();
    const c = collector(acking, t);
    const url = await c.listen();
    const p = probeWith(root.path, 2);
    const wrong = uplinkFor({ collectors: [url], identity: p.identity, outbox: p.outbox, ca: t.cert, pinSha256: ['00'.repeat(32)] });
    const errors: string[] = [];
    wrong.on('error', (e) => errors.push(e.code));
    expect((await wrong.flush({ timeoutMs: 500 })).pending).toBe(2);
    await wrong.close();
    expect(errors[0]).toBe('ssl_invalid_certificate');
    expect(c.received).toHaveLength(0); // no hello was sent to the unpinned server
    const right = uplinkFor({ collectors: [url], identity: p.identity, outbox: p.outbox, ca: t.cert, pinSha256: [t.sha256.replace(/(..)(?!$)/g, '$1:')] });
    expect(await right.flush({ timeoutMs: 5_000 })).toEqual({ acked: 2, pending: 0 });
    p.outbox.close();
  });

  it('goes through HTTPS_PROXY (HTTP CONNECT) from the environment', async () => {
    const c = collector(acking, getTls());
    const url = await c.listen();
    const connects: string[] = [];
    const proxy: Server = createServer();
    const tunnels = new Set<{ destroy(): void }>();
    proxy.on('connect', (req, socket, head) => {
      connects.push(req.url ?? '');
      tunnels.add(socket);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host ?? '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      tunnels.add(upstream);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => {
      for (const t of tunnels) t.destroy();
      proxy.close(() => r());
    }));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const p = probeWith(root.path, 3);
    const u = uplinkFor({ collectors: [url], identity: p.identity, outbox: p.outbox, ca: getTls().cert, env: { HTTPS_PROXY: proxyUrl } });
    expect(await u.flush({ timeoutMs: 5_000 })).toEqual({ acked: 3, pending: 0 });
    expect(connects).toEqual([new URL(url).host]);
    p.outbox.close();
  });

  it('goes through a SOCKS5 proxy given with proxy: socks5://', async () => {
    const c = collector(acking);
    const url = await c.listen();
    const targets: string[] = [];
    const relays = new Set<{ destroy(): void }>();
    const socks: TcpServer = createTcpServer((client) => {
      relays.add(client);
      // RFC 1928: greeting → no auth; CONNECT request (ATYP 1 IPv4 or 3 domain) → reply → relay.
      client.once('data', () => {
        client.write(Buffer.from([5, 0]));
        client.once('data', (req: Buffer) => {
          const atyp = req[3];
          let host = '';
          let o = 4;
          if (atyp === 1) { host = [...req.subarray(4, 8)].join('.'); o = 8; } else if (atyp === 3) { const len = req[4] ?? 0; host = req.subarray(5, 5 + len).toString(); o = 5 + len; }
          const port = req.readUInt16BE(o);
          targets.push(`${host}:${port}`);
          const upstream = connect(port, host, () => {
            client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
            upstream.pipe(client);
            client.pipe(upstream);
          });
          upstream.on('error', () => client.destroy());
          client.on('error', () => upstream.destroy());
        });
      });
    });
    await new Promise<void>((r) => socks.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => {
      for (const t of relays) t.destroy();
      socks.close(() => r());
    }));
    const p = probeWith(root.path, 2);
    const u = uplinkFor({ collectors: [url], identity: p.identity, outbox: p.outbox, proxy: `socks5://127.0.0.1:${(socks.address() as AddressInfo).port}` });
    expect(await u.flush({ timeoutMs: 5_000 })).toEqual({ acked: 2, pending: 0 });
    expect(targets).toEqual([new URL(url).host]);
    p.outbox.close();
  });
});
