import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, defaultVerdictReference, parseId } from '@steppe/shared';
import { registerApiRoutes } from '../../src/api/routes.js';
import { type Listening, listenRouter } from '../../src/http/listen.js';
import { Router } from '../../src/http/router.js';
import { importOoniLines } from '../../src/ooni/importer.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.js';
import { shutdownConfidence } from '../../src/timeline/episode-model.js';
import { BEELINE, KAZAKHTELECOM } from '../store/fixtures.js';
import { HOUR, MIN, type SeededProbe, addProbe, every, ingest } from './seed.js';

// Episodes with known truth, asked of the public API (GET /api/v1/episodes)
// over data committed through the store, on an injected clock
// (docs/design/dd-007-episodes.md). Each case failed before shutdowns
// needed every target to fail.

const DAY = Date.UTC(2020, 11, 6);
const at = (h: number, m = 0): number => DAY + h * HOUR + m * MIN;
const hhmm = (iso: string): string => iso.slice(11, 16);
const COLLECTOR = 'collector.steppe.example';
const SITES = ['www.facebook.com', 'www.instagram.com', 'www.youtube.com', 'vlast.kz', 'www.nur.kz'];

interface ApiEpisode {
  readonly kind: string;
  readonly domain: string | null;
  readonly probe_asn: number;
  readonly onset: string;
  readonly end: string;
  readonly probes: number;
  readonly measurements: number;
  readonly anomalies: number;
  readonly single_probe: boolean;
  readonly confidence: number;
  readonly evidence: readonly string[];
}

type Spec = Parameters<typeof ingest>[2][number];

let store: SqliteStore | undefined;
let listening: Listening | undefined;

afterEach(async () => {
  await listening?.close();
  await store?.close();
  listening = undefined;
  store = undefined;
});

/** A store and the API over it, on a manual clock. */
async function serve(nowMs: number): Promise<{ store: SqliteStore; clock: ManualClock; episodes: (query: string) => Promise<ApiEpisode[]> }> {
  const clock = new ManualClock(nowMs);
  const s = await openSqliteStore(':memory:', { clock });
  store = s;
  const router = new Router();
  registerApiRoutes(router, { store: s, clock });
  const l = await listenRouter(router, '127.0.0.1', 0);
  listening = l;
  return {
    store: s,
    clock,
    episodes: async (query) => {
      const res = await fetch(`${l.url}/api/v1/episodes?${query}`);
      expect(res.status, query).toBe(200);
      return ((await res.json()) as { results: ApiEpisode[] }).results;
    },
  };
}

const accessible = (t: number, domain: string): Spec => ({ startMs: t, domain });
/** Nothing answered, the control included: no verdict, a failure (as the probe records a shutdown). */
const unreachable = (t: number, domain: string): Spec => ({ startMs: t, domain, verdict: '', anomaly: false, failure: 'generic_timeout_error' });
/** The probe's own connectivity check to its collector (probe/src/connectivity/). */
const check = (t: number, ok: boolean): Spec => (ok
  ? { startMs: t, domain: COLLECTOR, testName: 'connectivity' }
  : { startMs: t, domain: COLLECTOR, testName: 'connectivity', verdict: '', anomaly: true, blockingType: '', failure: 'generic_timeout_error' });

/** Commit a probe's rounds: those `held` waited in its outbox and arrive at `deliveredAtMs`. */
async function commitRounds(s: SqliteStore, probe: SeededProbe, rounds: readonly (readonly Spec[])[], held: (t: number) => boolean, deliveredAtMs: number): Promise<void> {
  const all = rounds.flat();
  await ingest(s, probe, all.filter((m) => !held(m.startMs)));
  const late = all.filter((m) => held(m.startMs));
  if (late.length > 0) await ingest(s, probe, late, deliveredAtMs);
}

describe('several sites blocked at once on one network', () => {
  it('is three blocking episodes and no shutdown, even while the collector was unreachable', async () => {
    // 04:00-08:00: facebook, instagram and youtube blocked on AS9198; vlast.kz
    // and nur.kz stay reachable from the same probes in the same rounds.
    // 04:20-08:10 the collector itself was down: the probes' checks failed
    // and their outboxes delivered those hours at 08:15, late.
    const api = await serve(at(20));
    const blocked = (t: number): boolean => t >= at(4) && t < at(8);
    const outage = (t: number): boolean => t >= at(4, 20) && t < at(8, 10);
    const site = (t: number, domain: string): Spec => {
      if (!blocked(t)) return accessible(t, domain);
      if (domain === 'www.facebook.com') return { startMs: t, domain, verdict: 'tls', blockingType: 'sni_reset', failure: 'connection_reset' };
      if (domain === 'www.instagram.com') return { startMs: t, domain, verdict: 'tls', blockingType: 'sni_timeout', failure: 'generic_timeout_error' };
      if (domain === 'www.youtube.com') return { startMs: t, domain, verdict: 'dns', blockingType: 'dns_nxdomain', failure: 'dns_nxdomain_error' };
      return accessible(t, domain);
    };
    for (let i = 0; i < 3; i += 1) {
      const probe = await addProbe(api.store, KAZAKHTELECOM, DAY);
      const rounds = every(15 * MIN, at(0), at(12), i * 2 * MIN).map((t) => [check(t, !outage(t)), ...SITES.map((d) => site(t, d))]);
      await commitRounds(api.store, probe, rounds, outage, at(8, 15));
    }
    for (const grain of ['5m', '1h']) {
      const found = await api.episodes(`since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=${grain}`);
      // The last blocked round started 07:45-07:49: at 5 minutes the episode ends 07:50.
      const end = grain === '5m' ? '07:50' : '08:00';
      expect(found.map((e) => [e.kind, e.domain, e.probe_asn, hhmm(e.onset), hhmm(e.end)]), grain).toEqual([
        ['blocking', 'www.facebook.com', 9198, '04:00', end],
        ['blocking', 'www.instagram.com', 9198, '04:00', end],
        ['blocking', 'www.youtube.com', 9198, '04:00', end],
      ]);
      expect(found.every((e) => e.probes === 3 && !e.single_probe), grain).toBe(true);
      expect(await api.episodes(`since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=${grain}&kind=shutdown`), grain).toEqual([]);
    }
  });
});

describe('a real shutdown', () => {
  /** Three probes of AS21299 measuring every 15 minutes; everything fails while `cut`. */
  async function seedShutdown(api: Awaited<ReturnType<typeof serve>>, cut: (t: number) => boolean, deliveredAtMs: number): Promise<void> {
    for (let i = 0; i < 3; i += 1) {
      const probe = await addProbe(api.store, BEELINE, DAY);
      const rounds = every(15 * MIN, at(0), at(12), i * 2 * MIN).map((t) => [check(t, !cut(t)), ...SITES.map((d) => (cut(t) ? unreachable(t, d) : accessible(t, d)))]);
      await commitRounds(api.store, probe, rounds, cut, deliveredAtMs);
    }
  }

  it('is found from every target failing, the connectivity checks included, delivered late', async () => {
    const api = await serve(at(20));
    await seedShutdown(api, (t) => t >= at(6) && t < at(7, 30), at(7, 40));
    const found = await api.episodes('since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=5m');
    // The last failed round started 07:15-07:19.
    expect(found.map((e) => [e.kind, e.domain, e.probe_asn, hhmm(e.onset), hhmm(e.end)])).toEqual([['shutdown', null, 21299, '06:00', '07:20']]);
    const [shutdown] = found;
    // 6 rounds of 3 probes, each 5 sites and a check, all failed.
    expect(shutdown).toMatchObject({ probes: 3, measurements: 6 * 3 * 6, anomalies: 6 * 3 * 6, single_probe: false });
    // Every probe's own check failed: seen, not only inferred from late delivery.
    expect(shutdown?.confidence).toBe(shutdownConfidence(3, 3));
    expect(shutdown?.confidence).toBeGreaterThan(0.95);
    // The failed connectivity checks lead the evidence.
    const evidence = shutdown?.evidence ?? [];
    expect(evidence).toHaveLength(20);
    const tests = await Promise.all(evidence.map(async (id) => (await api.store.getMeasurement(parseId(id)))?.testName));
    expect(tests.slice(0, 18)).toEqual(Array(18).fill('connectivity'));
    expect(tests.slice(18)).toEqual(['web_connectivity', 'web_connectivity']);

    const hourly = await api.episodes('since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=1h');
    expect(hourly.map((e) => [e.kind, hhmm(e.onset), hhmm(e.end), e.probes])).toEqual([['shutdown', '06:00', '08:00', 3]]);
  });

  it('is found from failed connectivity checks when the cut is too short to make anything late', async () => {
    // 06:00-06:08: one round fails everywhere; the outboxes deliver at 06:09, within the 10 minutes that count as on time.
    const api = await serve(at(20));
    await seedShutdown(api, (t) => t >= at(6) && t < at(6, 8), at(6, 9));
    const found = await api.episodes('since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=5m');
    expect(found.map((e) => [e.kind, hhmm(e.onset), hhmm(e.end), e.probes, e.anomalies])).toEqual([['shutdown', '06:00', '06:05', 3, 18]]);
  });

  it('is ongoing while the range reaches now and nothing came back', async () => {
    const api = await serve(at(12));
    await seedShutdown(api, (t) => t >= at(11), at(12));
    const [ongoing] = await api.episodes('since=2020-12-06T06:00:00Z&until=2020-12-06T12:00:00Z&grain=5m');
    expect(ongoing).toMatchObject({ kind: 'shutdown', onset: new Date(at(11)).toISOString(), ongoing: true });
  });
});

describe('imported OONI measurements', () => {
  const fixture = (name: string, line: number): Record<string, unknown> => {
    const text = readFileSync(new URL(`../ooni/fixtures/${name}`, import.meta.url), 'utf8').split('\n')[line - 1] ?? '';
    return JSON.parse(text) as Record<string, unknown>;
  };
  // 0.2 line 1: a TCP timeout while the control connected (tcp_ip);
  // 0.5 line 4: an accessible page; 0.5 line 2: a timeout with the test helper unreachable too (undetermined).
  const timeout = fixture('web_connectivity-0.2.jsonl', 1);
  const fine = fixture('web_connectivity-0.5.jsonl', 4);
  const helperDown = fixture('web_connectivity-0.5.jsonl', 2);
  const line = (base: Record<string, unknown>, start: string, reportId: string): string => JSON.stringify({
    ...base, measurement_start_time: start, test_start_time: start, report_id: reportId,
    probe_asn: 'AS48503', probe_cc: 'KZ', probe_network_name: 'Tele2 Kazakhstan',
  });
  async function* lines(texts: readonly string[]): AsyncGenerator<string> {
    yield* texts;
  }
  const NOW = Date.UTC(2026, 0, 15);

  it('never make a shutdown from lateness: the issue\'s three lines with one timeout', async () => {
    // Imported years after they were made. Before: kind shutdown, probes 1, measurements 1, confidence 0.3.
    const api = await serve(NOW);
    const report = '20231018T064500Z_webconnectivity_KZ_48503_n1_handmade00000001';
    const summary = await importOoniLines(lines([
      line(fine, '2023-10-18 06:45:10', report),
      line(timeout, '2023-10-18 06:55:10', report),
      line(fine, '2023-10-18 07:05:10', report),
    ]), { store: api.store, reference: defaultVerdictReference(), clock: api.clock });
    expect(summary.imported).toBe(3);
    for (const grain of ['5m', '1h']) expect(await api.episodes(`since=2023-10-18T00:00:00Z&until=2023-10-19T00:00:00Z&grain=${grain}`), grain).toEqual([]);
    // The store never counts an import as late.
    const activity = await api.store.probeActivity({ since: Date.UTC(2023, 9, 18), until: Date.UTC(2023, 9, 19), grain: '5m' });
    expect(activity.map((a) => a.count)).toEqual([1, 1, 1]);
    expect(activity.every((a) => a.lateCount === 0 && a.lateFailedCount === 0 && a.checkCount === 0)).toBe(true);
  });

  it('never make a shutdown even when every import of several reports failed for an hour', async () => {
    const api = await serve(NOW);
    const texts: string[] = [];
    for (let r = 0; r < 3; r += 1) {
      for (let m = 0; m < 60; m += 10) texts.push(line(helperDown, `2023-10-18 06:${String(m + r).padStart(2, '0')}:00`, `20231018T060000Z_webconnectivity_KZ_48503_n1_handmade0000000${r}`));
    }
    expect((await importOoniLines(lines(texts), { store: api.store, reference: defaultVerdictReference(), clock: api.clock })).imported).toBe(18);
    for (const grain of ['5m', '1h']) expect(await api.episodes(`since=2023-10-18T00:00:00Z&until=2023-10-19T00:00:00Z&grain=${grain}`), grain).toEqual([]);
  });
});

describe('minimum evidence', () => {
  it('a single failed measurement yields nothing, whatever it is and however late', async () => {
    const api = await serve(at(20));
    const lone = async (asn: number): Promise<SeededProbe> => addProbe(api.store, { asn, cc: 'KZ', networkName: `AS${asn}` }, DAY);
    // A lone probe's one timeout, delivered two hours late.
    await ingest(api.store, await lone(64512), [unreachable(at(5), 'vlast.kz')], at(7));
    // A lone probe's one failed connectivity check, delivered late.
    await ingest(api.store, await lone(64513), [check(at(5), false)], at(7));
    // A lone probe's one blocked site.
    await ingest(api.store, await lone(64514), [{ startMs: at(5), domain: 'www.facebook.com', verdict: 'tcp_ip', blockingType: 'tcp_reset', failure: 'connection_reset' }]);
    for (const grain of ['5m', '1h']) expect(await api.episodes(`since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=${grain}`), grain).toEqual([]);
  });

  it('two probes with one late failure each are not a shutdown (fewer than three measurements)', async () => {
    const api = await serve(at(20));
    for (const offset of [0, 1]) await ingest(api.store, await addProbe(api.store, BEELINE, DAY), [unreachable(at(5, offset), 'vlast.kz')], at(7));
    expect(await api.episodes('since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=5m')).toEqual([]);
  });

  it('one probe losing everything, its check included, is not a shutdown of its network', async () => {
    // Indistinguishable from the volunteer's own router failing: no single-probe exception for shutdowns.
    const api = await serve(at(20));
    const probe = await addProbe(api.store, BEELINE, DAY);
    const cut = (t: number): boolean => t >= at(6) && t < at(8);
    await commitRounds(api.store, probe, every(15 * MIN, at(0), at(12)).map((t) => [check(t, !cut(t)), ...SITES.map((d) => (cut(t) ? unreachable(t, d) : accessible(t, d)))]), cut, at(8, 5));
    expect(await api.episodes('since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=5m')).toEqual([]);
  });

  it('a lone probe still reports a blocking episode, with three anomalies at least', async () => {
    const api = await serve(at(20));
    const probe = await addProbe(api.store, { asn: 48503, cc: 'KZ', networkName: 'Tele2 Kazakhstan' }, DAY);
    const blocked = (t: number): Spec => ({ startMs: t, domain: 'www.facebook.com', verdict: 'tcp_ip', blockingType: 'tcp_reset', failure: 'connection_reset' });
    await ingest(api.store, probe, [accessible(at(4), 'www.facebook.com'), blocked(at(4, 15)), blocked(at(4, 30)), accessible(at(5), 'www.facebook.com')]);
    expect(await api.episodes('since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=5m')).toEqual([]);
    await ingest(api.store, probe, [blocked(at(4, 45))]);
    const found = await api.episodes('since=2020-12-06T00:00:00Z&until=2020-12-06T12:00:00Z&grain=5m');
    expect(found.map((e) => [e.kind, e.anomalies, e.probes, e.single_probe, e.confidence])).toEqual([['blocking', 3, 1, true, 0.3]]);
  });
});
