import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_NETWORKS, STATE_ROOT_CN, startLab } from '../lab/src/index.js';
import {
  type ApiEpisode,
  type DemoRun,
  type Scenario,
  type TruthNetwork,
  compareEpisodes,
  expectedEpisodes,
  expectedMeasurements,
  isoMinute,
  lateRounds,
  loadScenario,
  localToMs,
  runDemo,
  shortenScenario,
  within,
} from '../lab/demo/src/index.js';

/**
 * The demo, shortened: the scripted day of test/lab/demo/scenario.json from
 * 06:30 to 14:30 Almaty, a round every 30 simulated minutes, three of the
 * core-list URLs. Real lab, real engine, outboxes and WebSocket uplinks,
 * real collector — then everything below is asked of the collector's public
 * HTTP API and compared with what the scenario file scripts.
 */

const HOUR = 3_600_000;
const TARGETS = ['https://www.facebook.com/', 'https://www.youtube.com/', 'https://vlast.kz/'];

interface ListedMeasurement {
  readonly measurement_id: string;
  readonly start_time: string;
  readonly received_time: string;
  readonly probe_id: string;
  readonly probe_asn: number;
  readonly probe_cc: string;
  readonly domain: string;
  readonly category_code: string;
  readonly verdict: string;
  readonly blocking_type: string;
  readonly anomaly: boolean;
  readonly confirmed: boolean;
  readonly failure: string | null;
}

let dir = '';
let scenario: Scenario;
let run: DemoRun;
let base = '';
let range = '';
let listed: ListedMeasurement[] = [];
const networks: TruthNetwork[] = LAB_NETWORKS.filter((n) => n.role === 'in-country').map((n) => ({ id: n.id, asn: n.asn, name: n.name }));
const asn = (id: string): number => networks.find((n) => n.id === id)?.asn ?? -1;
const local = (hhmm: string): number => localToMs(scenario, hhmm);

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  expect(res.status, `GET ${path}`).toBe(200);
  return (await res.json()) as T;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steppe-demo-test-'));
  scenario = shortenScenario(loadScenario(LAB_NETWORKS.map((n) => n.id)), { from: '06:30', to: '14:30', intervalMinutes: 30, targets: TARGETS });
  run = await runDemo({ scenario, startLab, dataDir: dir });
  base = run.collectorUrl;
  range = `since=${isoMinute(scenario.window.fromMs)}&until=${isoMinute(scenario.window.toMs)}`;
  let cursor: string | null = null;
  do {
    const page: { results: ListedMeasurement[]; next_cursor: string | null } = await api(`/api/v1/measurements?${range}&limit=1000&order=asc${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    listed.push(...page.results);
    cursor = page.next_cursor;
  } while (cursor !== null);
}, 240_000);

afterAll(async () => {
  await run?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('the shortened demo of 6 December 2020', () => {
  it('finds every scripted episode, and nothing else, to the hour (GET /api/v1/episodes)', async () => {
    const { results } = await api<{ results: ApiEpisode[] }>(`/api/v1/episodes?${range}&grain=1h&time_zone=Asia/Almaty`);
    const expected = expectedEpisodes(scenario, networks);
    // 2 blocked domains × 3 networks + the Kcell shutdown.
    expect(expected).toHaveLength(7);
    const rows = compareEpisodes(expected, results, HOUR);
    expect(rows.filter((r) => !r.ok).map((r) => ({ expected: r.expected, found: r.found?.id, problems: r.problems }))).toEqual([]);
    expect(rows).toHaveLength(expected.length);
    // The demo's own comparison says the same.
    expect(run.result.allMatch).toBe(true);
  });

  it('names each network\'s blocking method and counts its probes', async () => {
    const { results } = await api<{ results: ApiEpisode[] }>(`/api/v1/episodes?${range}&grain=1h&kind=blocking`);
    const byNetwork = (id: string): ApiEpisode[] => results.filter((e) => e.probe_asn === asn(id));
    for (const [network, type, probes] of [['kazakhtelecom', 'tls_mitm', 3], ['beeline', 'sni_reset', 2], ['kcell', 'dns_injection', 2]] as const) {
      const episodes = byNetwork(network);
      expect(episodes.map((e) => e.domain).sort()).toEqual(['www.facebook.com', 'www.youtube.com']);
      for (const e of episodes) {
        expect(e).toMatchObject({ onset: new Date(local('10:00')).toISOString(), end: new Date(local('14:00')).toISOString(), probes, single_probe: false, ongoing: false });
        expect(e.blocking_types).toEqual([type]);
      }
    }
    // Interception and injection carry confirmed evidence; SNI resets cannot.
    expect(byNetwork('kazakhtelecom').every((e) => e.confirmed === e.anomalies && e.confidence > 0.9)).toBe(true);
    expect(byNetwork('kcell').every((e) => e.confirmed === e.anomalies && e.confidence > 0.9)).toBe(true);
    expect(byNetwork('beeline').every((e) => e.confirmed === 0)).toBe(true);
    // Nothing else was blocked anywhere.
    expect(results.some((e) => e.domain === 'vlast.kz')).toBe(false);
  });

  it('records the Kcell shutdown from its probes\' late, failed deliveries', async () => {
    const { results } = await api<{ results: ApiEpisode[] }>(`/api/v1/episodes?${range}&grain=1h&kind=shutdown`);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ kind: 'shutdown', domain: null, probe_asn: asn('kcell'), probes: 2, onset: new Date(local('12:00')).toISOString(), end: new Date(local('13:00')).toISOString() });
    const shutdownRound = listed.filter((m) => m.probe_asn === asn('kcell') && Date.parse(m.start_time) >= local('12:00') && Date.parse(m.start_time) < local('12:30'));
    expect(shutdownRound).toHaveLength(2 * TARGETS.length);
    for (const m of shutdownRound) {
      // Nothing reached the lab nor the control: no verdict, a failure, delivered once the network was back.
      expect(m).toMatchObject({ verdict: '', anomaly: false });
      expect(m.failure).not.toBeNull();
      expect(Date.parse(m.received_time)).toBeGreaterThanOrEqual(local('12:30'));
    }
  });

  it('stores every measurement made, exactly once, from the right network', async () => {
    const expected = expectedMeasurements(scenario);
    expect(run.result.measurements).toEqual({ expected: expected.total, made: expected.total, stored: expected.total, dropped: 0 });
    const totals = await api<{ result: { measurement_count: number } }>(`/api/v1/aggregation?${range}`);
    expect(totals.result.measurement_count).toBe(expected.total);
    expect(listed).toHaveLength(expected.total);
    expect(new Set(listed.map((m) => m.measurement_id)).size).toBe(expected.total);
    // Core-list metadata travels with each measurement.
    const categories = new Map(listed.map((m) => [m.domain, m.category_code]));
    expect(Object.fromEntries(categories)).toEqual({ 'www.facebook.com': 'GRP', 'www.youtube.com': 'MMED', 'vlast.kz': 'NEWS' });
    for (const p of run.result.probes) {
      const mine = listed.filter((m) => m.probe_id === p.probeId);
      expect(mine, p.name).toHaveLength(expected.perProbe.get(p.name) ?? -1);
      expect(new Set(mine.map((m) => m.probe_asn)), p.name).toEqual(new Set([asn(p.network)]));
      expect(new Set(mine.map((m) => m.probe_cc)), p.name).toEqual(new Set(['KZ']));
    }
  });

  it('delivers the cut-off probe\'s measurements late, and everyone else\'s at once', () => {
    const offline = scenario.offline[0];
    expect(offline?.probe).toBe('kt-shymkent');
    if (offline === undefined) return;
    const shymkent = run.result.probes.find((p) => p.name === offline.probe)?.probeId;
    const delays = listed.map((m) => ({ m, start: Date.parse(m.start_time), delay: Date.parse(m.received_time) - Date.parse(m.start_time) }));
    const cutOff = delays.filter(({ m, start }) => m.probe_id === shymkent && within(offline, start));
    expect(cutOff).toHaveLength(lateRounds(scenario, offline.probe).length * TARGETS.length);
    for (const { start, delay } of cutOff) {
      expect(start + delay).toBeGreaterThanOrEqual(offline.toMs);
      expect(delay).toBeGreaterThan(10 * 60_000);
    }
    // What was not held in an outbox arrived within the round that made it.
    const onTime = delays.filter(({ m, start }) => !(m.probe_id === shymkent && within(offline, start)) && !(m.probe_asn === asn('kcell') && start >= local('12:00') && start < local('12:30')));
    expect(onTime.length).toBeGreaterThan(0);
    for (const { delay } of onTime) expect(delay).toBeLessThan(scenario.intervalMs);
  });

  it('confirms the interception by the lab\'s "security certificate" root, in the evidence', async () => {
    const intercepted = listed.find((m) => m.probe_asn === asn('kazakhtelecom') && m.verdict === 'interception');
    expect(intercepted).toMatchObject({ blocking_type: 'tls_mitm', confirmed: true, failure: 'ssl_unknown_authority' });
    const full = await api<{ analysis?: { interception_issuer_cn?: string } }>(`/api/v1/measurements/${intercepted?.measurement_id ?? ''}`);
    expect(full.analysis?.interception_issuer_cn).toBe(STATE_ROOT_CN);
  });

  it('draws hours without a probe as no data, never as accessible, and seeds the event', async () => {
    const tl = await api<{ series: { domain: string; probe_asn: number; buckets: { start: string; state: string; measurements: number }[] }[] }>(
      `/api/v1/timeline?${range}&grain=1h&split=domain_asn&domain=vlast.kz&probe_asn=AS206026,AS9198`,
    );
    const kcell = tl.series.find((s) => s.probe_asn === asn('kcell'));
    const kt = tl.series.find((s) => s.probe_asn === asn('kazakhtelecom'));
    // Kcell's probes start at 07:00: the 06:00 hour of AS206026 has no data, Kazakhtelecom's does.
    expect(kcell?.buckets[0]).toMatchObject({ state: 'no_data', measurements: 0 });
    expect(kt?.buckets[0]?.state).toBe('accessible');
    expect(kcell?.buckets.slice(1).every((b) => b.state === 'accessible')).toBe(true);
    const events = await api<{ results: { name: string }[] }>('/api/v1/events');
    expect(events.results.map((e) => e.name)).toContain('Cyber Security Nur-Sultan 2020');
  });

  it('never stores a probe\'s source address', () => {
    const sources = run.result.probes.map((p) => {
      const spec = scenario.probes.find((s) => s.name === p.name);
      const net = LAB_NETWORKS.find((n) => n.id === p.network);
      return `${net?.cidr.split('.').slice(0, 3).join('.')}.${spec?.host}`;
    });
    const collectorDir = join(dir, 'collector');
    for (const file of readdirSync(collectorDir).filter((f) => f.startsWith('collector.sqlite'))) {
      const bytes = readFileSync(join(collectorDir, file));
      for (const source of sources) expect(bytes.includes(Buffer.from(source)), `${source} in ${file}`).toBe(false);
    }
  });
});
