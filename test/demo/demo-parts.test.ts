import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_NETWORKS } from '../lab/src/index.js';
import {
  type ApiEpisode,
  NetworkGateway,
  type Scenario,
  SimClock,
  compareEpisodes,
  expectedEpisodes,
  expectedMeasurements,
  lateRounds,
  loadScenario,
  localToMs,
  roundTimes,
  shortenScenario,
} from '../lab/demo/src/index.js';

/** The demo's parts on their own: the scenario and its truth, the clock, the gateway (real sockets). */

const HOUR = 3_600_000;
const networks = LAB_NETWORKS.filter((n) => n.role === 'in-country').map((n) => ({ id: n.id, asn: n.asn, name: n.name }));
const scenario: Scenario = loadScenario(LAB_NETWORKS.map((n) => n.id));
const at = (hhmm: string): number => localToMs(scenario, hhmm);

function found(overrides: Partial<ApiEpisode>): ApiEpisode {
  return {
    id: 'x', kind: 'blocking', domain: 'www.facebook.com', probe_asn: 9198, onset: new Date(at('10:00')).toISOString(), end: new Date(at('14:00')).toISOString(),
    ongoing: false, grain: '1h', blocking_types: ['tls_mitm'], probes: 3, measurements: 48, anomalies: 48, confirmed: 48, gap_buckets: 0,
    single_probe: false, confidence: 0.99, evidence_url: '', ...overrides,
  };
}

describe('the scenario file and the truth derived from it', () => {
  it('scripts the day in Almaty time (UTC+6)', () => {
    expect(new Date(scenario.window.fromMs).toISOString()).toBe('2020-12-05T18:00:00.000Z');
    expect(new Date(scenario.window.toMs).toISOString()).toBe('2020-12-06T18:00:00.000Z');
    expect(roundTimes(scenario)).toHaveLength(96);
    const kt = scenario.blocking.find((b) => b.network === 'kazakhtelecom');
    expect(new Date(kt?.fromMs ?? 0).toISOString()).toBe('2020-12-06T04:00:00.000Z');
  });

  it('derives one episode per network and measured blocked domain, plus the shutdown', () => {
    const expected = expectedEpisodes(scenario, networks);
    expect(expected.filter((e) => e.kind === 'blocking')).toHaveLength(9);
    expect(expected.filter((e) => e.kind === 'shutdown')).toEqual([
      { kind: 'shutdown', domain: null, network: 'kcell', asn: 206026, blockingType: 'shutdown', fromMs: at('12:00'), toMs: at('12:30') },
    ]);
    expect(new Set(expected.map((e) => e.domain))).toEqual(new Set(['www.facebook.com', 'www.instagram.com', 'www.youtube.com', null]));
  });

  it('counts measurements per probe from the probes\' hours', () => {
    const { total, perProbe } = expectedMeasurements(scenario);
    expect(perProbe.get('kt-almaty')).toBe(96 * 6);
    expect(perProbe.get('kcell-aktobe')).toBe(68 * 6); // from 07:00
    expect(total).toBe((5 * 96 + 2 * 68) * 6);
    expect(lateRounds(scenario, 'kt-shymkent')).toHaveLength(8); // 11:00-13:00
    expect(lateRounds(scenario, 'kcell-aktobe')).toEqual([at('12:00'), at('12:15')]);
    expect(lateRounds(scenario, 'beeline-almaty')).toEqual([]);
  });

  it('shortens by clipping rules to the window and dropping those outside it', () => {
    const short = shortenScenario(scenario, { from: '11:30', to: '12:15', intervalMinutes: 5, targets: ['https://vlast.kz/'] });
    expect(roundTimes(short)).toHaveLength(9);
    expect(short.blocking.every((b) => b.fromMs === at('11:30') && b.toMs === at('12:15'))).toBe(true);
    expect(short.shutdowns[0]).toMatchObject({ fromMs: at('12:00'), toMs: at('12:15') });
    // vlast.kz is never blocked: only the shutdown remains to be found.
    expect(expectedEpisodes(short, networks).map((e) => e.kind)).toEqual(['shutdown']);
    expect(() => shortenScenario(scenario, { targets: ['https://example.org/'] })).toThrow(/not a target/);
    expect(() => shortenScenario(scenario, { from: '12:00', to: '11:00' })).toThrow(/after/);
  });

  it('refuses a scenario naming a network the lab does not have', () => {
    expect(() => loadScenario(['kazakhtelecom', 'beeline'])).toThrow(/unknown network "kcell"/);
  });
});

describe('compareEpisodes', () => {
  const expected = expectedEpisodes(shortenScenario(scenario, { targets: ['https://www.facebook.com/'] }), networks);
  const exact = [
    found({}),
    found({ probe_asn: 21299, blocking_types: ['sni_reset'] }),
    found({ probe_asn: 206026, blocking_types: ['dns_injection'] }),
    found({ kind: 'shutdown', domain: null, probe_asn: 206026, onset: new Date(at('12:00')).toISOString(), end: new Date(at('13:00')).toISOString(), blocking_types: ['shutdown'] }),
  ];

  it('accepts onset and end within one bucket and the scripted type', () => {
    expect(compareEpisodes(expected, exact, HOUR).map((r) => r.ok)).toEqual([true, true, true, true]);
  });

  it('flags an end more than a bucket off, a wrong type, a missed and an unscripted episode', () => {
    const rows = compareEpisodes(expected, [
      found({ end: new Date(at('15:30')).toISOString() }),
      found({ probe_asn: 21299, blocking_types: ['tls_failure', 'sni_reset'] }),
      found({ probe_asn: 206026, domain: 'vlast.kz', blocking_types: ['dns_injection'] }),
      exact[3] as ApiEpisode,
    ], HOUR);
    expect(rows.map((r) => [r.expected?.network ?? null, r.found?.domain ?? null, r.ok, r.problems.join('; ')])).toEqual([
      ['kazakhtelecom', 'www.facebook.com', false, 'end 90 min off'],
      ['beeline', 'www.facebook.com', false, 'type tls_failure+sni_reset, scripted sni_reset'],
      ['kcell', null, false, 'not found'],
      ['kcell', null, true, ''],
      [null, 'vlast.kz', false, 'not scripted'],
    ]);
  });
});

describe('SimClock', () => {
  it('runs at real speed from each jump and never goes back', async () => {
    const clock = new SimClock(at('10:00'));
    await new Promise((r) => setTimeout(r, 20));
    const t = clock.now();
    expect(t).toBeGreaterThanOrEqual(at('10:00') + 15);
    expect(t).toBeLessThan(at('10:00') + 60_000);
    clock.jumpTo(at('10:15'));
    expect(clock.now()).toBeGreaterThanOrEqual(at('10:15'));
    expect(() => clock.jumpTo(at('10:00'))).toThrow(/cannot jump/);
  });
});

describe('NetworkGateway (real sockets on loopback)', () => {
  let upstream: Server;
  let gateway: NetworkGateway;
  const seen: string[] = [];

  beforeAll(async () => {
    // An echo server standing in for the collector; it records where connections come from.
    upstream = createServer((socket) => {
      seen.push(socket.remoteAddress ?? '');
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const port = (upstream.address() as { port: number }).port;
    gateway = await NetworkGateway.start({ host: '127.0.0.1', upstream: { host: '127.0.0.1', port }, networks: LAB_NETWORKS.map((n) => ({ id: n.id, cidr: n.cidr })) });
  });

  afterAll(async () => {
    await gateway.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  /** A client socket through the gateway, with everything it receives kept. */
  interface Client { readonly socket: Socket; received: string; closed: boolean }
  const open = (source: string): Promise<Client> => new Promise((resolve, reject) => {
    const url = new URL(gateway.url);
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: source }, () => resolve(client));
    const client: Client = { socket, received: '', closed: false };
    socket.on('data', (d: Buffer) => { client.received += d.toString(); });
    socket.on('close', () => { client.closed = true; });
    socket.once('error', reject);
    socket.on('error', () => undefined);
  });
  /** Send `text`, then wait up to `timeoutMs` for `expected` to have come back in all: what came, or 'closed' / 'timeout'. */
  const echo = async (c: Client, text: string, timeoutMs: number, expected = text): Promise<string> => {
    if (text !== '') c.socket.write(text);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (c.received.endsWith(expected) && expected !== '') return expected;
      if (c.closed) return 'closed';
      await new Promise((r) => setTimeout(r, 10));
    }
    return 'timeout';
  };

  it('relays from the probe\'s own source address', async () => {
    const s = await open('127.0.5.21');
    expect(await echo(s, 'hello', 2000)).toBe('hello');
    expect(seen).toContain('127.0.5.21');
    s.socket.destroy();
  });

  it('drops a shut-down network\'s traffic, then lets it through when the network comes back', async () => {
    const s = await open('127.0.5.22');
    expect(await echo(s, 'before', 2000)).toBe('before');
    gateway.cut({ network: 'kcell' }, 'drop');
    const other = await open('127.0.4.22');
    expect(await echo(other, 'beeline is up', 2000)).toBe('beeline is up');
    expect(await echo(s, 'during', 300)).toBe('timeout');
    const fresh = await open('127.0.5.23');
    expect(await echo(fresh, 'new', 300)).toBe('timeout');
    gateway.restore({ network: 'kcell' });
    // The held bytes go through when the route is back.
    expect(await echo(s, '', 2000, 'during')).toBe('during');
    expect(await echo(fresh, '', 2000, 'new')).toBe('new');
    for (const x of [s, other, fresh]) x.socket.destroy();
  });

  it('resets one source address while its neighbours go through', async () => {
    const s = await open('127.0.2.23');
    gateway.cut({ address: '127.0.2.23' }, 'reset');
    expect(await echo(s, 'x', 2000)).toBe('closed');
    // A new connection is reset at once: seen during the connect or on the first read (a loopback race).
    const fresh = await open('127.0.2.23').then((c) => echo(c, 'y', 2000), (err: NodeJS.ErrnoException) => err.code);
    expect(['closed', 'ECONNRESET']).toContain(fresh);
    const neighbour = await open('127.0.2.24');
    expect(await echo(neighbour, 'ok', 2000)).toBe('ok');
    gateway.restore({ address: '127.0.2.23' });
    const back = await open('127.0.2.23');
    expect(await echo(back, 'back', 2000)).toBe('back');
    for (const x of [neighbour, back]) x.socket.destroy();
  });
});
