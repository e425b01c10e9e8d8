import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { type AnalyticsStore, type EpisodeBucket, GRAIN_MS, type MeasurementStore, type RollupGrain } from '../../src/store/store.js';
import { type Episode, dominantTypes, episodeConfidence, episodeId, evidenceIds, findRuns } from '../../src/timeline/episode-model.js';
import { EPISODE_DEFAULTS, detectEpisodes } from '../../src/timeline/episodes.js';
import { HOUR, MIN, addProbe, ingest } from './seed.js';

// detectEpisodes reads blocked buckets sparsely (blockedBuckets, then the
// few buckets between them). This is the dense formulation it replaced —
// every bucket of every (domain, ASN) from episodeInputs, states, findRuns —
// kept here as the reference the sparse reading must agree with.
interface Rules { minShare: number; minProbes: number; minAnomalies: number; minClear: number; maxGap: number; evidenceLimit: number }

async function denseBlockingEpisodes(store: AnalyticsStore & MeasurementStore, since: number, until: number, grain: RollupGrain, nowMs: number, r: Rules): Promise<Episode[]> {
  const grainMs = GRAIN_MS[grain];
  const inputs = await store.episodeInputs({ since, until, grain });
  const groups = new Map<string, EpisodeBucket[]>();
  for (const b of inputs) {
    const key = `${b.domain}\u0000${b.asn}`;
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [b]);
    else list.push(b);
  }
  const episodes: Episode[] = [];
  for (const buckets of groups.values()) {
    const first = buckets[0];
    if (first === undefined || !buckets.some((b) => b.anomalyCount > 0)) continue;
    const byStart = new Map(buckets.map((b) => [b.bucketMs, b]));
    const count = (until - since) / grainMs;
    const states: ('blocked' | 'clear' | 'gap')[] = [];
    for (let i = 0; i < count; i += 1) {
      const b = byStart.get(since + i * grainMs);
      states.push(b === undefined || b.count === 0 ? 'gap' : b.anomalyCount / b.count >= r.minShare ? 'blocked' : b.count >= r.minClear ? 'clear' : 'gap');
    }
    const lastWithData = Math.max(states.lastIndexOf('blocked'), states.lastIndexOf('clear'));
    const reachesNow = until >= nowMs - grainMs;
    for (const run of findRuns(states, r.maxGap)) {
      const probes = new Set<number>();
      let measurements = 0;
      let anomalies = 0;
      let confirmed = 0;
      const types: Record<string, number> = {};
      for (let i = run.first; i <= run.last; i += 1) {
        const b = byStart.get(since + i * grainMs);
        if (b === undefined) continue;
        measurements += b.count;
        if (states[i] !== 'blocked') continue;
        anomalies += b.anomalyCount;
        confirmed += b.confirmedCount;
        for (const p of b.anomalyProbes) probes.add(p);
        for (const [t, n] of Object.entries(b.blockingTypes)) types[t] = (types[t] ?? 0) + n;
      }
      if (anomalies < r.minAnomalies) continue;
      const singleProbe = probes.size < r.minProbes;
      const inAsn = (await store.probesPerAsn({ since, until, asns: [first.asn] }))[0]?.probes ?? 0;
      if (singleProbe && !(probes.size === 1 && inAsn <= 1)) continue;
      const onsetMs = since + run.first * grainMs;
      const endMs = since + (run.last + 1) * grainMs;
      episodes.push({
        id: episodeId('blocking', first.asn, first.domain, onsetMs),
        kind: 'blocking',
        domain: first.domain,
        asn: first.asn,
        onsetMs,
        endMs,
        ongoing: reachesNow && run.last === lastWithData && count - 1 - run.last <= r.maxGap,
        grain,
        blockingTypes: dominantTypes(types),
        probes: probes.size,
        measurements,
        anomalies,
        confirmed,
        gapBuckets: run.gapBuckets,
        singleProbe,
        confidence: episodeConfidence(probes.size, anomalies, confirmed, singleProbe),
        evidence: await evidenceIds(store, { domains: [first.domain], asns: [first.asn], since: onsetMs, until: endMs, confirmed }, r.evidenceLimit),
      });
    }
  }
  return episodes.sort((a, b) => a.onsetMs - b.onsetMs || a.asn - b.asn || (a.domain ?? '').localeCompare(b.domain ?? ''));
}

const DAY = Date.UTC(2020, 11, 6);
const NETWORKS = [
  { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' },
  { asn: 21299, cc: 'KZ', networkName: 'Kar-Tel LLC' },
];
const DOMAINS = ['www.facebook.com', 'www.youtube.com'];

/** A random morning: probes per network, block windows, silences, noise and undetermined results. */
const scenario = fc.record({
  probes: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })),
  windows: fc.array(fc.record({ domain: fc.nat(1), asn: fc.nat(1), from: fc.nat(11 * 60), minutes: fc.integer({ min: 5, max: 240 }), rate: fc.constantFrom(0.6, 0.9, 1) }), { maxLength: 4 }),
  silences: fc.array(fc.record({ probe: fc.nat(4), from: fc.nat(11 * 60), minutes: fc.integer({ min: 5, max: 120 }) }), { maxLength: 3 }),
  noise: fc.constantFrom(0, 0.05, 0.2),
  undetermined: fc.constantFrom(0, 0.1),
  confirmedRate: fc.constantFrom(0, 0.5),
  seed: fc.integer(),
  rules: fc.record({
    minShare: fc.constantFrom(0.3, 0.5, 0.8),
    minProbes: fc.constantFrom(1, 2),
    minAnomalies: fc.constantFrom(2, 3),
    minClear: fc.constantFrom(1, 2, 3),
    maxGap: fc.constantFrom(0, 1, 3),
    evidenceLimit: fc.constantFrom(0, 3),
  }),
  grain: fc.constantFrom<RollupGrain>('5m', '1h'),
  until: fc.constantFrom(6, 9, 12),
  now: fc.constantFrom(6, 9, 12, 30),
});

describe('sparse episode detection', () => {
  it('finds what the dense formulation over every bucket finds', async () => {
    const seen = { episodes: 0, bridged: 0, ongoing: 0, single: 0 };
    await fc.assert(fc.asyncProperty(scenario, async (s) => {
      const store = await openSqliteStore(':memory:');
      try {
        let state = s.seed >>> 0 || 1;
        const rand = (): number => {
          state ^= state << 13;
          state ^= state >>> 17;
          state ^= state << 5;
          return (state >>> 0) / 2 ** 32;
        };
        let probeIndex = 0;
        for (const [n, network] of NETWORKS.entries()) {
          for (let p = 0; p < (s.probes[n] ?? 1); p += 1) {
            const probe = await addProbe(store, network, DAY);
            const me = probeIndex;
            probeIndex += 1;
            const specs = [];
            for (let t = DAY + (p * 3 + 1) * MIN; t < DAY + s.until * HOUR; t += 10 * MIN) {
              const minute = (t - DAY) / MIN;
              if (s.silences.some((q) => q.probe === me && minute >= q.from && minute < q.from + q.minutes)) continue;
              for (let d = 0; d < DOMAINS.length; d += 1) {
                const domain = DOMAINS[d] ?? 'www.facebook.com';
                const window = s.windows.find((w) => w.domain === d && w.asn === n && minute >= w.from && minute < w.from + w.minutes);
                const blocked = rand() < (window === undefined ? s.noise : window.rate);
                if (rand() < s.undetermined) specs.push({ startMs: t, domain, verdict: '', anomaly: false });
                else if (blocked) specs.push({ startMs: t, domain, verdict: 'tls', blockingType: rand() < 0.5 ? 'sni_reset' : 'sni_timeout', failure: 'connection_reset', confirmed: rand() < s.confirmedRate });
                else specs.push({ startMs: t, domain });
              }
            }
            await ingest(store, probe, specs);
          }
        }
        const until = DAY + s.until * HOUR;
        const nowMs = DAY + s.now * HOUR;
        const options = { minAnomalyShare: s.rules.minShare, minProbes: s.rules.minProbes, minAnomalies: s.rules.minAnomalies, minClearMeasurements: s.rules.minClear, maxGapBuckets: s.rules.maxGap, evidenceLimit: s.rules.evidenceLimit, nowMs };
        const sparse = await detectEpisodes(store, { since: DAY, until, grain: s.grain, kinds: ['blocking'] }, options);
        const dense = await denseBlockingEpisodes(store, DAY, until, s.grain, nowMs, s.rules);
        expect(sparse).toEqual(dense);
        seen.episodes += sparse.length;
        seen.bridged += sparse.filter((e) => e.gapBuckets > 0).length;
        seen.ongoing += sparse.filter((e) => e.ongoing).length;
        seen.single += sparse.filter((e) => e.singleProbe).length;
      } finally {
        await store.close();
      }
    }), { numRuns: 25, seed: 20201206 });
    // The scenarios exercise every rule (fixed seed: the same ones each run).
    expect(seen.episodes).toBeGreaterThan(20);
    expect(seen.bridged).toBeGreaterThan(0);
    expect(seen.ongoing).toBeGreaterThan(0);
    expect(seen.single).toBeGreaterThan(0);
  });

  it('uses the documented defaults', async () => {
    expect(EPISODE_DEFAULTS).toMatchObject({ minAnomalyShare: 0.5, minProbes: 2, minAnomalies: 3, minClearMeasurements: 2, maxGapBuckets: 3 });
  });
});
