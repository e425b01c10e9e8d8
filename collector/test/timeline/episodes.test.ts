import { beforeAll, describe, expect, it } from 'vitest';
import { idToString } from '@steppe/shared';
import type { Store } from '../../src/store/store.js';
import { describeEngines } from '../store/engines.js';
import { detectEpisodes } from '../../src/timeline/episodes.js';
import { episodeConfidence, findRuns } from '../../src/timeline/episode-model.js';
import { buildTimeline } from '../../src/timeline/timeline.js';
import { BEELINE, KAZAKHTELECOM } from '../store/fixtures.js';
import { HOUR, MIN, addProbe, every, ingest } from './seed.js';

// Known truth, 6 December 2020 (UTC; Almaty was UTC+6):
// - facebook on AS9198: TLS SNI resets 04:02-07:47 (10:02-13:47 local), three probes;
// - youtube on AS9198: DNS blocking 04:00-08:00, no probe reported 05:00-05:40;
// - instagram on AS9198: blocked 04:00-08:00, no data 06:00-06:15 (three 5-minute buckets);
// - instagram on AS21299: one noisy probe fails all day, its neighbour sees it fine;
// - facebook on AS48503: the only probe there sees confirmed interception 02:00-03:00;
// - AS50482: both probes offline 06:00-08:00, their outboxes deliver failures at 08:40;
// - AS206026: both probes asleep 06:00-08:00, deliver late but accessible results.
const DAY = Date.UTC(2020, 11, 6);
const at = (h: number, m = 0): number => DAY + h * HOUR + m * MIN;
const TELE2 = { asn: 48503, cc: 'KZ', networkName: 'Tele2 Kazakhstan' };
const BEELINE_KZ = { asn: 50482, cc: 'KZ', networkName: 'Beeline Kazakhstan' };
const KCELL = { asn: 206026, cc: 'KZ', networkName: 'Kcell JSC' };

describeEngines('episodes', (engine) => {
let store: Store;
const blockedFacebookIds = new Set<string>();

beforeAll(async () => {
  store = await engine.open();
  const kt = [await addProbe(store, KAZAKHTELECOM, DAY), await addProbe(store, KAZAKHTELECOM, DAY), await addProbe(store, KAZAKHTELECOM, DAY)];
  for (const [i, probe] of kt.entries()) {
    const facebook = every(10 * MIN, at(0), at(12), i * 3 * MIN).map((t) => {
      const blocked = t >= at(4, 2) && t < at(7, 47);
      return blocked ? { startMs: t, domain: 'www.facebook.com', verdict: 'tls', blockingType: 'sni_reset', failure: 'connection_reset' } : { startMs: t, domain: 'www.facebook.com' };
    });
    for (const id of await ingest(store, probe, facebook)) {
      const spec = facebook.find((f) => f.startMs === Number(BigInt('0x' + Buffer.from(id.subarray(0, 6)).toString('hex'))));
      if (spec !== undefined && 'verdict' in spec) blockedFacebookIds.add(idToString(id));
    }
  }
  for (const [i, probe] of kt.slice(0, 2).entries()) {
    const youtube = every(10 * MIN, at(0), at(12), i * 5 * MIN)
      .filter((t) => t < at(5) || t >= at(5, 40))
      .map((t) => (t >= at(4) && t < at(8) ? { startMs: t, domain: 'www.youtube.com', verdict: 'dns', blockingType: 'dns_nxdomain', failure: 'dns_nxdomain_error' } : { startMs: t, domain: 'www.youtube.com' }));
    await ingest(store, probe, youtube);
    const instagram = every(10 * MIN, at(0), at(12), i * 5 * MIN)
      .filter((t) => t < at(6) || t >= at(6, 15))
      .map((t) => (t >= at(4) && t < at(8) ? { startMs: t, domain: 'www.instagram.com', verdict: 'tls', blockingType: 'sni_timeout', failure: 'generic_timeout_error' } : { startMs: t, domain: 'www.instagram.com' }));
    await ingest(store, probe, instagram);
  }

  const noisy = await addProbe(store, BEELINE, DAY);
  const neighbour = await addProbe(store, BEELINE, DAY);
  await ingest(store, noisy, every(10 * MIN, at(0), at(12)).map((t) => ({ startMs: t, domain: 'www.instagram.com', verdict: 'tcp_ip', blockingType: 'tcp_timeout', failure: 'generic_timeout_error' })));
  await ingest(store, neighbour, every(10 * MIN, at(0), at(12), 5 * MIN).map((t) => ({ startMs: t, domain: 'www.instagram.com' })));

  const lone = await addProbe(store, TELE2, DAY);
  await ingest(store, lone, every(10 * MIN, at(0), at(12)).map((t) => (t >= at(2) && t < at(3)
    ? { startMs: t, domain: 'www.facebook.com', verdict: 'interception', blockingType: 'tls_mitm', confirmed: true }
    : { startMs: t, domain: 'www.facebook.com' })));

  for (const [network, fails] of [[BEELINE_KZ, true], [KCELL, false]] as const) {
    for (const offset of [0, 5]) {
      const probe = await addProbe(store, network, DAY);
      const times = every(10 * MIN, at(0), at(12), offset * MIN);
      const offline = (t: number): boolean => t >= at(6) && t < at(8);
      // Inside the shutdown nothing answers, the control included: no verdict, a failure.
      const spec = (t: number): { startMs: number; domain: string; verdict?: string; anomaly?: boolean; failure?: string } => (offline(t) && fails
        ? { startMs: t, domain: 'site00.example.kz', verdict: '', anomaly: false, failure: 'generic_timeout_error' }
        : { startMs: t, domain: 'site00.example.kz' });
      await ingest(store, probe, times.filter((t) => t < at(6)).map(spec));
      // The outbox kept these until the network came back.
      await ingest(store, probe, times.filter(offline).map(spec), at(8, 40));
      await ingest(store, probe, times.filter((t) => t >= at(8)).map(spec));
    }
  }
});


describe('detectEpisodes on seeded data with known truth', () => {
  it('finds exactly the true episodes, onset and end within one 5-minute bucket', async () => {
    const episodes = await detectEpisodes(store, { since: at(0), until: at(12), grain: '5m' }, { nowMs: DAY + 24 * HOUR });
    const summary = episodes.map((e) => ({ kind: e.kind, asn: e.asn, domain: e.domain, onset: new Date(e.onsetMs).toISOString().slice(11, 16), end: new Date(e.endMs).toISOString().slice(11, 16) }));
    expect(summary).toEqual([
      // Its last blocked measurement started 02:50 and the next one (03:00) was fine: the end is known to the bucket.
      { kind: 'blocking', asn: 48503, domain: 'www.facebook.com', onset: '02:00', end: '02:55' },
      { kind: 'blocking', asn: 9198, domain: 'www.facebook.com', onset: '04:00', end: '07:50' },
      { kind: 'blocking', asn: 9198, domain: 'www.instagram.com', onset: '04:00', end: '08:00' },
      { kind: 'blocking', asn: 9198, domain: 'www.youtube.com', onset: '04:00', end: '05:00' },
      { kind: 'blocking', asn: 9198, domain: 'www.youtube.com', onset: '05:40', end: '08:00' },
      { kind: 'shutdown', asn: 50482, domain: null, onset: '06:00', end: '08:00' },
    ]);
    // True onset 04:02 and end 07:47 each fall inside the reported first and last bucket.
    const facebook = episodes.find((e) => e.asn === 9198 && e.domain === 'www.facebook.com');
    expect(facebook).toBeDefined();
    if (facebook === undefined) return;
    expect(at(4, 2) - facebook.onsetMs).toBeGreaterThanOrEqual(0);
    expect(at(4, 2) - facebook.onsetMs).toBeLessThan(5 * MIN);
    expect(facebook.endMs - at(7, 47)).toBeGreaterThan(0);
    expect(facebook.endMs - at(7, 47)).toBeLessThanOrEqual(5 * MIN);
    expect(facebook).toMatchObject({ probes: 3, blockingTypes: ['sni_reset'], singleProbe: false, confirmed: 0, ongoing: false, grain: '5m' });
    expect(facebook.anomalies).toBe(blockedFacebookIds.size);
    expect(facebook.confidence).toBe(episodeConfidence(3, facebook.anomalies, 0, false));
    expect(facebook.evidence).toHaveLength(20);
    for (const id of facebook.evidence) expect(blockedFacebookIds.has(id)).toBe(true);
  });

  it('does not turn one noisy probe into an episode, at any grain', async () => {
    for (const grain of ['5m', '1h'] as const) {
      const episodes = await detectEpisodes(store, { since: at(0), until: at(12), grain, asns: [21299] });
      expect(episodes).toEqual([]);
    }
  });

  it('bridges a short gap without counting it as blocked, and splits at a long one', async () => {
    const episodes = await detectEpisodes(store, { since: at(0), until: at(12), grain: '5m', asns: [9198], domains: ['www.instagram.com', 'www.youtube.com'], kinds: ['blocking'] });
    const instagram = episodes.filter((e) => e.domain === 'www.instagram.com');
    expect(instagram).toHaveLength(1);
    expect(instagram[0]?.gapBuckets).toBe(3);
    expect(instagram[0]?.measurements).toBe(instagram[0]?.anomalies); // the gap added no measurements
    expect(episodes.filter((e) => e.domain === 'www.youtube.com').map((e) => e.gapBuckets)).toEqual([0, 0]);
  });

  it('keeps the lone probe of a network, marked and with lower confidence', async () => {
    const [lone] = await detectEpisodes(store, { since: at(0), until: at(12), grain: '5m', asns: [48503] });
    expect(lone).toMatchObject({ singleProbe: true, probes: 1, confirmed: 6, anomalies: 6, blockingTypes: ['tls_mitm'] });
    expect(lone?.confidence).toBe(episodeConfidence(1, 6, 6, true));
    expect(lone?.confidence ?? 1).toBeLessThan(0.6);
  });

  it('finds the shutdown from late failed deliveries, never from late successes', async () => {
    const episodes = await detectEpisodes(store, { since: at(0), until: at(12), grain: '5m', kinds: ['shutdown'] });
    expect(episodes.map((e) => e.asn)).toEqual([50482]);
    expect(episodes[0]).toMatchObject({ kind: 'shutdown', probes: 2, measurements: 24, anomalies: 24, blockingTypes: ['shutdown'] });
    expect(episodes[0]?.evidence).toHaveLength(20);
  });

  it('finds the same episodes at hourly grain, to the hour', async () => {
    const episodes = await detectEpisodes(store, { since: at(0), until: at(12), grain: '1h', asns: [9198], domains: ['www.facebook.com'] });
    expect(episodes.map((e) => [e.kind, new Date(e.onsetMs).toISOString().slice(11, 16), new Date(e.endMs).toISOString().slice(11, 16)])).toEqual([['blocking', '04:00', '08:00']]);
  });

  it('marks an episode ongoing only when the range reaches now and it is still blocked', async () => {
    const [cut] = await detectEpisodes(store, { since: at(0), until: at(6), grain: '5m', asns: [9198], domains: ['www.facebook.com'] }, { nowMs: at(6) });
    expect(cut).toMatchObject({ ongoing: true, endMs: at(6) });
    const [past] = await detectEpisodes(store, { since: at(0), until: at(6), grain: '5m', asns: [9198], domains: ['www.facebook.com'] }, { nowMs: at(20) });
    expect(past?.ongoing).toBe(false);
  });
});

describe('buildTimeline', () => {
  it('draws buckets per verdict with anomaly shares, and no-data buckets as no data', async () => {
    const tl = await buildTimeline(store, { since: at(0), until: at(14), grain: '1h', split: 'domain_asn', domains: ['www.facebook.com'], asns: [9198] });
    expect(tl.series).toHaveLength(1);
    const buckets = tl.series[0]?.buckets ?? [];
    expect(buckets).toHaveLength(14);
    expect(buckets.map((b) => b.state)).toEqual([
      'accessible', 'accessible', 'accessible', 'accessible',
      'anomaly', 'anomaly', 'anomaly', 'anomaly',
      'accessible', 'accessible', 'accessible', 'accessible',
      'no_data', 'no_data',
    ]);
    expect(buckets[4]).toMatchObject({ measurements: 18, anomalies: 17, confirmed: 0 });
    expect(buckets[4]?.verdicts).toMatchObject({ tls: 17, accessible: 1, dns: 0 });
    expect(buckets[4]?.anomalyShare).toBeCloseTo(17 / 18);
    expect(buckets[12]).toMatchObject({ measurements: 0, anomalyShare: null, confirmedShare: null });
  });

  it('shows a gap where no probe reported as no data, not as accessible', async () => {
    const tl = await buildTimeline(store, { since: at(4, 50), until: at(5, 50), grain: '5m', split: 'domain_asn', domains: ['www.youtube.com'], asns: [9198] });
    const states = (tl.series[0]?.buckets ?? []).map((b) => `${new Date(b.startMs).toISOString().slice(11, 16)} ${b.state}`);
    expect(states).toEqual([
      '04:50 anomaly', '04:55 anomaly',
      '05:00 no_data', '05:05 no_data', '05:10 no_data', '05:15 no_data', '05:20 no_data', '05:25 no_data', '05:30 no_data', '05:35 no_data',
      '05:40 anomaly', '05:45 anomaly',
    ]);
  });

  it('draws a series asked for by name even when it has no data at all', async () => {
    const tl = await buildTimeline(store, { since: at(0), until: at(1), grain: '1h', split: 'domain', domains: ['nowhere.example'] });
    expect(tl.series).toEqual([{ domain: 'nowhere.example', asn: null, buckets: [expect.objectContaining({ state: 'no_data' })] }]);
  });

  it('sums a day from hourly rollups', async () => {
    const tl = await buildTimeline(store, { since: DAY, until: DAY + 24 * HOUR, grain: '1d', domains: ['www.facebook.com'], asns: [9198] });
    expect(tl.series[0]?.buckets[0]?.measurements).toBe(3 * 72);
  });

  it('refuses a range with too many buckets', async () => {
    await expect(buildTimeline(store, { since: 0, until: DAY, grain: '5m' })).rejects.toThrow(/grain/);
  });
});

describe('findRuns', () => {
  it('bridges gaps up to the limit and never extends a run into a trailing gap', async () => {
    const s = (text: string): ('blocked' | 'clear' | 'gap')[] => [...text].map((c) => (c === 'B' ? 'blocked' : c === 'C' ? 'clear' : 'gap'));
    expect(findRuns(s('CBB..BC'), 2)).toEqual([{ first: 1, last: 5, gapBuckets: 2 }]);
    expect(findRuns(s('CBB...BC'), 2)).toEqual([{ first: 1, last: 2, gapBuckets: 0 }, { first: 6, last: 6, gapBuckets: 0 }]);
    expect(findRuns(s('BB.C'), 3)).toEqual([{ first: 0, last: 1, gapBuckets: 0 }]);
    expect(findRuns(s('BB..'), 3)).toEqual([{ first: 0, last: 1, gapBuckets: 0 }]);
  });
});

describe('noise rules', () => {
  it('needs at least three anomalies: two probes failing once together is noise', async () => {
    const s = await engine.open();
    const net = { asn: 29355, cc: 'KZ', networkName: 'KazTransCom' };
    const [p, q] = [await addProbe(s, net, DAY), await addProbe(s, net, DAY)];
    const spec = (t: number, fail: boolean): { startMs: number; domain: string; verdict?: string; blockingType?: string; failure?: string } => (fail
      ? { startMs: t, domain: 'site00.example.kz', verdict: 'tcp_ip', blockingType: 'tcp_timeout', failure: 'generic_timeout_error' }
      : { startMs: t, domain: 'site00.example.kz' });
    if (p === undefined || q === undefined) throw new Error('no probes');
    await ingest(s, p, every(HOUR, at(0), at(12)).map((t) => spec(t, t === at(5))));
    await ingest(s, q, every(HOUR, at(0), at(12), 10 * MIN).map((t) => spec(t, t === at(5, 10))));
    expect(await detectEpisodes(s, { since: at(0), until: at(12), grain: '1h' })).toEqual([]);
    await ingest(s, q, [spec(at(5, 40), true)]);
    expect((await detectEpisodes(s, { since: at(0), until: at(12), grain: '1h' })).map((e) => [e.anomalies, e.probes])).toEqual([[3, 2]]);
    await s.close();
  });

  it('does not end a block on one accessible measurement alone', async () => {
    const s = await engine.open();
    const net = { asn: 15549, cc: 'KZ', networkName: 'Aksoran' };
    const probes = [await addProbe(s, net, DAY), await addProbe(s, net, DAY)];
    for (const [i, probe] of probes.entries()) {
      await ingest(s, probe, every(10 * MIN, at(0), at(6), i * 5 * MIN).map((t) => (t >= at(1) && t < at(5) && t !== at(3)
        ? { startMs: t, domain: 'site00.example.kz', verdict: 'dns', blockingType: 'dns_nxdomain', failure: 'dns_nxdomain_error' }
        : { startMs: t, domain: 'site00.example.kz' })));
    }
    const episodes = await detectEpisodes(s, { since: at(0), until: at(6), grain: '5m' });
    expect(episodes.map((e) => [new Date(e.onsetMs).toISOString().slice(11, 16), new Date(e.endMs).toISOString().slice(11, 16), e.gapBuckets])).toEqual([['01:00', '05:00', 1]]);
    await s.close();
  });
});
});
