import { InvalidArgumentError } from '@steppe/shared';
import { type AnalyticsStore, type EpisodeBucket, type EpisodeInputQuery, type EpisodeRange, GRAIN_MS, type MeasurementSource, type MeasurementStore, type RollupFilters, type RollupGrain } from '../store/store.js';
import { type Episode, type EpisodeKind, dominantTypes, episodeConfidence, episodeId, evidenceIds } from './episode-model.js';
import { detectShutdowns } from './shutdowns.js';
import { alignRange } from './timeline.js';

export type { Episode, EpisodeKind } from './episode-model.js';

/**
 * Episode detection (docs/design/dd-004-storage.md, "Episodes").
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
export interface EpisodeQuery extends RollupFilters {
  readonly since: number;
  readonly until: number;
  readonly grain: RollupGrain;
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
export async function detectEpisodes(store: AnalyticsStore & MeasurementStore, query: EpisodeQuery, options: EpisodeOptions = {}): Promise<Episode[]> {
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
    episodes.push(...await blockingEpisodes(store, { since, until, grain: query.grain, grainMs, filters, sources: query.sources, nowMs }, { minShare, minProbes, minAnomalies, minClear, maxGap, evidenceLimit }));
  }

  // A shutdown takes every domain down with it, so it is reported whatever the domain filter.
  if (kinds.includes('shutdown')) {
    episodes.push(...await detectShutdowns(store, { since, until, grain: query.grain, ...(query.asns === undefined ? {} : { asns: query.asns }), ...(query.sources === undefined ? {} : { sources: query.sources }) }, { minProbes, maxGapBuckets: maxGap, evidenceLimit, nowMs }));
  }
  return episodes.sort((a, b) => a.onsetMs - b.onsetMs || a.asn - b.asn || (a.domain ?? '').localeCompare(b.domain ?? ''));
}

interface Window {
  readonly since: number;
  readonly until: number;
  readonly grain: RollupGrain;
  readonly grainMs: number;
  readonly filters: Omit<EpisodeInputQuery, 'since' | 'until' | 'grain'>;
  readonly sources: readonly MeasurementSource[] | undefined;
  readonly nowMs: number;
}

interface Rules {
  readonly minShare: number;
  readonly minProbes: number;
  readonly minAnomalies: number;
  readonly minClear: number;
  readonly maxGap: number;
  readonly evidenceLimit: number;
}

/**
 * Blocking episodes (rules 1–4), read sparsely: the store returns only the
 * blocked buckets, then the few buckets between blocked ones close enough
 * to be bridged (and after the last, for `ongoing`) — a clear one there
 * ends a run — so a month of hourly buckets costs a few dozen rows, not ten
 * thousand. The result is what the rules give over the full sequence of
 * buckets (a test compares the two on random data).
 */
async function blockingEpisodes(store: AnalyticsStore & MeasurementStore, w: Window, r: Rules): Promise<Episode[]> {
  const { since, until, grainMs } = w;
  const count = (until - since) / grainMs;
  const reachesNow = until >= w.nowMs - grainMs;
  const blocked = await store.blockedBuckets({ since, until, grain: w.grain, ...w.filters, minAnomalyShare: r.minShare });
  // Groups of one (domain, ASN): the store orders by domain, ASN, time.
  const groups: EpisodeBucket[][] = [];
  for (const b of blocked) {
    const group = groups[groups.length - 1];
    const head = group?.[0];
    if (group !== undefined && head !== undefined && head.domain === b.domain && head.asn === b.asn) group.push(b);
    else groups.push([b]);
  }
  // What lies between blocked buckets near enough to be bridged, and after the last.
  const ranges: EpisodeRange[] = [];
  for (const group of groups) {
    for (let i = 1; i < group.length; i += 1) {
      const a = group[i - 1];
      const b = group[i];
      if (a === undefined || b === undefined) continue;
      const gap = (b.bucketMs - a.bucketMs) / grainMs - 1;
      if (gap >= 1 && gap <= r.maxGap) ranges.push({ domain: b.domain, asn: b.asn, since: a.bucketMs + grainMs, until: b.bucketMs });
    }
    const last = group[group.length - 1];
    if (last !== undefined && reachesNow && last.bucketMs + grainMs < until && (until - last.bucketMs) / grainMs - 1 <= r.maxGap) {
      ranges.push({ domain: last.domain, asn: last.asn, since: last.bucketMs + grainMs, until });
    }
  }
  const between = new Map<string, EpisodeBucket>();
  for (const b of await store.episodeInputsIn({ since, until, grain: w.grain, ...w.filters }, ranges)) between.set(`${b.domain}\u0000${b.asn}\u0000${b.bucketMs}`, b);
  const bucketAt = (domain: string, asn: number, bucketMs: number): EpisodeBucket | undefined => between.get(`${domain}\u0000${asn}\u0000${bucketMs}`);
  const isClear = (b: EpisodeBucket | undefined): boolean => b !== undefined && b.count >= r.minClear && b.count > 0;
  // Measurements of the non-blocked buckets in (from, to), and whether one of them is clear.
  const stretch = (domain: string, asn: number, from: number, to: number): { measurements: number; clear: boolean } => {
    let measurements = 0;
    let clear = false;
    for (let t = from + grainMs; t < to; t += grainMs) {
      const b = bucketAt(domain, asn, t);
      if (b === undefined) continue;
      measurements += b.count;
      if (isClear(b)) clear = true;
    }
    return { measurements, clear };
  };

  // Probes active per ASN over the range, for the single-probe rule: asked
  // only for ASNs where a run rests on one probe, once per ASN.
  const probesInAsn = new Map<number, number>();
  const probesIn = async (asn: number): Promise<number> => {
    let n = probesInAsn.get(asn);
    if (n === undefined) {
      n = (await store.probesPerAsn({ since, until, asns: [asn], ...(w.sources === undefined ? {} : { sources: w.sources }) }))[0]?.probes ?? 0;
      probesInAsn.set(asn, n);
    }
    return n;
  };

  const episodes: Episode[] = [];
  for (const group of groups) {
    const first = group[0];
    if (first === undefined) continue;
    const { domain, asn } = first;
    // Runs of blocked buckets, bridging at most maxGap buckets without a clear one (rule 2).
    const runs: { buckets: EpisodeBucket[]; gapBuckets: number; measurements: number }[] = [];
    for (const b of group) {
      const run = runs[runs.length - 1];
      const last = run?.buckets[run.buckets.length - 1];
      if (run !== undefined && last !== undefined) {
        const gap = (b.bucketMs - last.bucketMs) / grainMs - 1;
        const mid = gap === 0 ? { measurements: 0, clear: false } : gap <= r.maxGap ? stretch(domain, asn, last.bucketMs, b.bucketMs) : undefined;
        if (mid !== undefined && !mid.clear) {
          run.buckets.push(b);
          run.gapBuckets += gap;
          run.measurements += mid.measurements + b.count;
          continue;
        }
      }
      runs.push({ buckets: [b], gapBuckets: 0, measurements: b.count });
    }
    for (const [index, run] of runs.entries()) {
      const head = run.buckets[0];
      const tail = run.buckets[run.buckets.length - 1];
      if (head === undefined || tail === undefined) continue;
      let anomalies = 0;
      let confirmed = 0;
      const types: Record<string, number> = {};
      for (const b of run.buckets) {
        anomalies += b.anomalyCount;
        confirmed += b.confirmedCount;
        for (const [t, n] of Object.entries(b.blockingTypes)) types[t] = (types[t] ?? 0) + n;
      }
      if (anomalies < r.minAnomalies) continue;
      const probes = await store.anomalyProbeCount({ domain, asn, grain: w.grain, bucketStarts: run.buckets.map((b) => b.bucketMs), ...(w.sources === undefined ? {} : { sources: w.sources }) });
      const singleProbe = probes < r.minProbes;
      if (singleProbe && !(probes === 1 && (await probesIn(asn)) <= 1)) continue;
      const onsetMs = head.bucketMs;
      const endMs = tail.bucketMs + grainMs;
      const lastIndex = (tail.bucketMs - since) / grainMs;
      // Ongoing: the range reaches now, this run ends within maxGap of its
      // end, and no later bucket of this (domain, ASN) is clear or blocked.
      const ongoing = reachesNow && index === runs.length - 1 && count - 1 - lastIndex <= r.maxGap && !stretch(domain, asn, tail.bucketMs, until).clear;
      episodes.push({
        id: episodeId('blocking', asn, domain, onsetMs),
        kind: 'blocking',
        domain,
        asn,
        onsetMs,
        endMs,
        ongoing,
        grain: w.grain,
        blockingTypes: dominantTypes(types),
        probes,
        measurements: run.measurements,
        anomalies,
        confirmed,
        gapBuckets: run.gapBuckets,
        singleProbe,
        confidence: episodeConfidence(probes, anomalies, confirmed, singleProbe),
        evidence: await evidenceIds(store, { domains: [domain], asns: [asn], since: onsetMs, until: endMs, confirmed }, r.evidenceLimit),
      });
    }
  }
  return episodes;
}
