import { InvalidArgumentError } from '@steppe/shared';
import { type AnalyticsStore, type EpisodeBucket, GRAIN_MS, type MeasurementSource, type MeasurementStore, type RollupGrain } from '../store/store.js';
import { type Episode, type EpisodeKind, dominantTypes, episodeConfidence, episodeId, evidenceIds, findRuns } from './episode-model.js';
import { detectShutdowns } from './shutdowns.js';
import { alignRange } from './timeline.js';

export type { Episode, EpisodeKind } from './episode-model.js';

/**
 * Episode detection (docs/design/dd-002-storage.md, "Episodes").
 *
 * Per (domain, ASN), on rollup buckets:
 * 1. A bucket with data is *blocked* when at least `minAnomalyShare` of its
 *    measurements are anomalous; otherwise *clear* — but only with at least
 *    `minClearMeasurements` (2) measurements: one accessible result amid a
 *    block (blocking is rarely 100 % effective) is too weak to end it, so
 *    such a bucket counts as a gap. A bucket without data is a *gap*:
 *    unknown, never clear.
 * 2. Consecutive blocked buckets form a run. A gap of at most `maxGapBuckets`
 *    between two blocked buckets is bridged (the run goes on through it and
 *    the gap is counted in `gapBuckets`); a longer gap, or a clear bucket,
 *    ends the run at the end of its last blocked bucket. A gap never extends
 *    a run: after the last blocked bucket the end is that bucket's end.
 * 3. A run becomes an episode only with anomalies from at least
 *    `minProbes` distinct probes (default 2) and at least `minAnomalies`
 *    anomalous measurements (default 3: two probes' coincident one-off
 *    failures in a sparse bucket are noise): one noisy probe alone never
 *    makes an episode. Exception: when only one probe reported from that ASN
 *    in the whole range, its run is kept, marked `singleProbe`, with a lower
 *    confidence — a lone volunteer in a network still deserves to be heard.
 * 4. Confidence = 1 − 0.5^p · (1 − 0.9·c), where p is the number of distinct
 *    probes and c the share of anomalous measurements that are confirmed
 *    (blockpage fingerprint, interception root); ×0.6 for a single probe.
 */

/** What to look at. */
export interface EpisodeQuery {
  readonly since: number;
  readonly until: number;
  readonly grain: RollupGrain;
  readonly domains?: readonly string[];
  readonly asns?: readonly number[];
  readonly ccs?: readonly string[];
  readonly categoryCodes?: readonly string[];
  readonly sources?: readonly MeasurementSource[];
  /** Which kinds to report (both by default). */
  readonly kinds?: readonly EpisodeKind[];
}

/** Tuning, with the defaults documented in the module comment. */
export interface EpisodeOptions {
  readonly minAnomalyShare?: number;
  readonly minProbes?: number;
  readonly minAnomalies?: number;
  readonly minClearMeasurements?: number;
  readonly maxGapBuckets?: number;
  readonly evidenceLimit?: number;
  /** "Now", to tell an ongoing episode from one that ended (from the injected clock). */
  readonly nowMs?: number;
}

export const EPISODE_DEFAULTS = { minAnomalyShare: 0.5, minProbes: 2, minAnomalies: 3, minClearMeasurements: 2, maxGapBuckets: 3, evidenceLimit: 20 } as const;

function checkQuery(q: EpisodeQuery): void {
  if (!Number.isSafeInteger(q.since) || !Number.isSafeInteger(q.until) || q.until <= q.since) {
    throw new InvalidArgumentError(`since/until: expected since < until, got ${q.since} and ${q.until}`);
  }
  if (q.grain !== '5m' && q.grain !== '1h') throw new InvalidArgumentError('grain: episodes are found at 5m or 1h');
}

/** Detect blocking episodes (and shutdowns) in a range. */
export function detectEpisodes(store: AnalyticsStore & MeasurementStore, query: EpisodeQuery, options: EpisodeOptions = {}): Episode[] {
  checkQuery(query);
  const minShare = options.minAnomalyShare ?? EPISODE_DEFAULTS.minAnomalyShare;
  const minProbes = options.minProbes ?? EPISODE_DEFAULTS.minProbes;
  const minAnomalies = options.minAnomalies ?? EPISODE_DEFAULTS.minAnomalies;
  const minClear = options.minClearMeasurements ?? EPISODE_DEFAULTS.minClearMeasurements;
  const maxGap = options.maxGapBuckets ?? EPISODE_DEFAULTS.maxGapBuckets;
  const evidenceLimit = options.evidenceLimit ?? EPISODE_DEFAULTS.evidenceLimit;
  const grainMs = GRAIN_MS[query.grain];
  const [since, until] = alignRange(query.since, query.until, grainMs);
  const kinds = query.kinds ?? ['blocking', 'shutdown'];
  const nowMs = options.nowMs ?? until;
  const episodes: Episode[] = [];
  const filters = {
    ...(query.domains === undefined ? {} : { domains: query.domains }),
    ...(query.asns === undefined ? {} : { asns: query.asns }),
    ...(query.ccs === undefined ? {} : { ccs: query.ccs }),
    ...(query.categoryCodes === undefined ? {} : { categoryCodes: query.categoryCodes }),
    ...(query.sources === undefined ? {} : { sources: query.sources }),
  };

  if (kinds.includes('blocking')) {
    const inputs = store.episodeInputs({ since, until, grain: query.grain, ...filters });
    // Probes active per ASN over the range, for the single-probe rule: asked
    // only for ASNs where a run rests on one probe, once per ASN.
    const probesInAsn = new Map<number, number>();
    const probesIn = (asn: number): number => {
      let n = probesInAsn.get(asn);
      if (n === undefined) {
        n = store.probesPerAsn({ since, until, asns: [asn], ...(query.sources === undefined ? {} : { sources: query.sources }) })[0]?.probes ?? 0;
        probesInAsn.set(asn, n);
      }
      return n;
    };
    const groups = new Map<string, EpisodeBucket[]>();
    for (const b of inputs) {
      const key = `${b.domain}\u0000${b.asn}`;
      const list = groups.get(key);
      if (list === undefined) groups.set(key, [b]);
      else list.push(b);
    }
    for (const buckets of groups.values()) {
      const first = buckets[0];
      if (first === undefined || !buckets.some((b) => b.anomalyCount > 0)) continue;
      const byStart = new Map(buckets.map((b) => [b.bucketMs, b]));
      const count = (until - since) / grainMs;
      const states: ('blocked' | 'clear' | 'gap')[] = [];
      for (let i = 0; i < count; i += 1) {
        const b = byStart.get(since + i * grainMs);
        states.push(b === undefined || b.count === 0 ? 'gap' : b.anomalyCount / b.count >= minShare ? 'blocked' : b.count >= minClear ? 'clear' : 'gap');
      }
      const lastWithData = Math.max(states.lastIndexOf('blocked'), states.lastIndexOf('clear'));
      const reachesNow = until >= nowMs - grainMs;
      for (const run of findRuns(states, maxGap)) {
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
        if (anomalies < minAnomalies) continue;
        const singleProbe = probes.size < minProbes;
        if (singleProbe && !(probes.size === 1 && probesIn(first.asn) <= 1)) continue;
        const onsetMs = since + run.first * grainMs;
        const endMs = since + (run.last + 1) * grainMs;
        episodes.push({
          id: episodeId('blocking', first.asn, first.domain, onsetMs),
          kind: 'blocking',
          domain: first.domain,
          asn: first.asn,
          onsetMs,
          endMs,
          ongoing: reachesNow && run.last === lastWithData && count - 1 - run.last <= maxGap,
          grain: query.grain,
          blockingTypes: dominantTypes(types),
          probes: probes.size,
          measurements,
          anomalies,
          confirmed,
          gapBuckets: run.gapBuckets,
          singleProbe,
          confidence: episodeConfidence(probes.size, anomalies, confirmed, singleProbe),
          evidence: evidenceIds(store, { domains: [first.domain], asns: [first.asn], since: onsetMs, until: endMs, confirmed }, evidenceLimit),
        });
      }
    }
  }

  // A shutdown takes every domain down with it, so it is reported whatever the domain filter.
  if (kinds.includes('shutdown')) {
    episodes.push(...detectShutdowns(store, { since, until, grain: query.grain, ...(query.asns === undefined ? {} : { asns: query.asns }), ...(query.sources === undefined ? {} : { sources: query.sources }) }, { minProbes, maxGapBuckets: maxGap, evidenceLimit, nowMs }));
  }
  return episodes.sort((a, b) => a.onsetMs - b.onsetMs || a.asn - b.asn || (a.domain ?? '').localeCompare(b.domain ?? ''));
}
