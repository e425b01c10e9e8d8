import { type AnalyticsStore, GRAIN_MS, type MeasurementStore, type ProbeActivityQuery, type ProbeActivityRow, type RollupGrain } from '../store/store.js';
import { type Episode, episodeConfidence, episodeId, evidenceIds, findRuns } from './episode-model.js';

/**
 * Shutdown detection. When a network is cut, its probes go silent together;
 * their outboxes keep measuring and deliver later, so the collector receives
 * measurements whose start time lies inside the silence, long before they
 * arrived (the store counts them as late), and which failed. A bucket of an
 * ASN is *silent* when the probes whose measurements there arrived late and
 * mostly (≥ half) failed are at least half of the probes active in it
 * (on-time deliveries from the others mean the network was up). Buckets
 * with activity and no such majority are *clear*; buckets without any
 * activity are gaps. Runs are formed as for blocking episodes, and a run is
 * a shutdown only when at least min(minProbes, probes of the ASN in the
 * range) distinct probes were silent in it: one probe's dead uplink is not
 * a network going dark.
 * Late but successful measurements (a collector outage, a laptop asleep) are
 * never a shutdown.
 */

/** What shutdown detection looks at: the probe-activity query it runs. */
export type ShutdownQuery = ProbeActivityQuery;

export interface ShutdownOptions {
  readonly minProbes: number;
  readonly maxGapBuckets: number;
  readonly evidenceLimit: number;
  readonly nowMs: number;
}

interface Cell {
  active: number;
  silentFailed: Set<number>;
  count: number;
  lateFailed: number;
}

/** Shutdown episodes per ASN in an aligned range. */
export async function detectShutdowns(store: Pick<AnalyticsStore, 'lateFailureSpans' | 'probeActivity' | 'probesPerAsn'> & MeasurementStore, query: ShutdownQuery, options: ShutdownOptions): Promise<Episode[]> {
  const grainMs = GRAIN_MS[query.grain];
  const sources = query.sources === undefined ? {} : { sources: query.sources };
  // Most of the time no network went dark: ask first where late failures
  // are at all, and read only the activity around them (a run can only hold
  // buckets with late failures, bridged by short gaps).
  const spans = await store.lateFailureSpans({ since: query.since, until: query.until, ...(query.asns === undefined ? {} : { asns: query.asns }), ...sources });
  const episodes: Episode[] = [];
  const pad = (options.maxGapBuckets + 1) * grainMs;
  for (const span of spans) {
    const since = Math.max(query.since, Math.floor((span.firstBucketMs - pad) / grainMs) * grainMs);
    const until = Math.min(query.until, Math.ceil((span.lastBucketMs + 300_000 + pad) / grainMs) * grainMs);
    if (until <= since) continue;
    const activity = await store.probeActivity({ since, until, grain: query.grain, asns: [span.asn], ...sources });
    // Asked only when a run rests on fewer probes than minProbes.
    const probesInAsn = async (): Promise<number> => (await store.probesPerAsn({ since: query.since, until: query.until, asns: [span.asn], ...sources }))[0]?.probes ?? 0;
    episodes.push(...await shutdownsOfAsn(store, span.asn, activity, { since, until, grainMs, grain: query.grain, reachesEnd: until === query.until, probesInAsn }, options));
  }
  return episodes;
}

async function shutdownsOfAsn(
  store: MeasurementStore,
  asn: number,
  activity: readonly ProbeActivityRow[],
  w: { since: number; until: number; grainMs: number; grain: RollupGrain; reachesEnd: boolean; probesInAsn: () => Promise<number> },
  options: ShutdownOptions,
): Promise<Episode[]> {
  const cells = new Map<number, Cell>();
  for (const a of activity) {
    let cell = cells.get(a.bucketMs);
    if (cell === undefined) cells.set(a.bucketMs, (cell = { active: 0, silentFailed: new Set(), count: 0, lateFailed: 0 }));
    cell.active += 1;
    cell.count += a.count;
    cell.lateFailed += a.lateFailedCount;
    if (a.lateFailedCount > 0 && a.lateFailedCount * 2 >= a.count) cell.silentFailed.add(a.probe);
  }
  const episodes: Episode[] = [];
  const count = (w.until - w.since) / w.grainMs;
  const states: ('blocked' | 'clear' | 'gap')[] = [];
  for (let i = 0; i < count; i += 1) {
    const cell = cells.get(w.since + i * w.grainMs);
    if (cell === undefined) states.push('gap');
    else states.push(cell.silentFailed.size > 0 && cell.silentFailed.size * 2 >= cell.active ? 'blocked' : 'clear');
  }
  const lastWithData = Math.max(states.lastIndexOf('blocked'), states.lastIndexOf('clear'));
  for (const run of findRuns(states, options.maxGapBuckets)) {
    const probes = new Set<number>();
    let measurements = 0;
    let failed = 0;
    for (let i = run.first; i <= run.last; i += 1) {
      const cell = cells.get(w.since + i * w.grainMs);
      if (cell === undefined) continue;
      measurements += cell.count;
      if (states[i] !== 'blocked') continue;
      failed += cell.lateFailed;
      for (const p of cell.silentFailed) probes.add(p);
    }
    if (probes.size < options.minProbes && (probes.size === 0 || probes.size < Math.min(options.minProbes, await w.probesInAsn()))) continue;
    const singleProbe = probes.size < options.minProbes;
    const onsetMs = w.since + run.first * w.grainMs;
    const endMs = w.since + (run.last + 1) * w.grainMs;
    episodes.push({
      id: episodeId('shutdown', asn, null, onsetMs),
      kind: 'shutdown',
      domain: null,
      asn,
      onsetMs,
      endMs,
      ongoing: w.reachesEnd && w.until >= options.nowMs - w.grainMs && run.last === lastWithData && count - 1 - run.last <= options.maxGapBuckets,
      grain: w.grain,
      blockingTypes: ['shutdown'],
      probes: probes.size,
      measurements,
      anomalies: failed,
      confirmed: 0,
      gapBuckets: run.gapBuckets,
      singleProbe,
      confidence: episodeConfidence(probes.size, failed, 0, singleProbe),
      evidence: await evidenceIds(store, { asns: [asn], since: onsetMs, until: endMs, failed: true }, options.evidenceLimit),
    });
  }
  return episodes;
}
