import { type AnalyticsStore, GRAIN_MS, type MeasurementSource, type MeasurementStore, type RollupGrain } from '../store/store.js';
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

export interface ShutdownQuery {
  readonly since: number;
  readonly until: number;
  readonly grain: RollupGrain;
  readonly asns?: readonly number[];
  readonly sources?: readonly MeasurementSource[];
}

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
export function detectShutdowns(store: AnalyticsStore & MeasurementStore, query: ShutdownQuery, options: ShutdownOptions): Episode[] {
  const grainMs = GRAIN_MS[query.grain];
  const sources = query.sources === undefined ? {} : { sources: query.sources };
  // Most of the time no network went dark: ask first which ASNs had late
  // failures at all, and read the activity of those only.
  const candidates = store.asnsWithLateFailures({ since: query.since, until: query.until, ...(query.asns === undefined ? {} : { asns: query.asns }), ...sources });
  if (candidates.length === 0) return [];
  const activity = store.probeActivity({ since: query.since, until: query.until, grain: query.grain, asns: candidates, ...sources });
  const perAsn = new Map<number, { probes: Set<number>; cells: Map<number, Cell>; anyLate: boolean }>();
  for (const a of activity) {
    let asn = perAsn.get(a.asn);
    if (asn === undefined) perAsn.set(a.asn, (asn = { probes: new Set(), cells: new Map(), anyLate: false }));
    asn.probes.add(a.probe);
    let cell = asn.cells.get(a.bucketMs);
    if (cell === undefined) asn.cells.set(a.bucketMs, (cell = { active: 0, silentFailed: new Set(), count: 0, lateFailed: 0 }));
    cell.active += 1;
    cell.count += a.count;
    cell.lateFailed += a.lateFailedCount;
    if (a.lateFailedCount > 0 && a.lateFailedCount * 2 >= a.count) {
      cell.silentFailed.add(a.probe);
      asn.anyLate = true;
    }
  }
  const episodes: Episode[] = [];
  const count = (query.until - query.since) / grainMs;
  for (const [asn, data] of perAsn) {
    if (!data.anyLate) continue;
    const need = Math.min(options.minProbes, data.probes.size);
    const states: ('blocked' | 'clear' | 'gap')[] = [];
    for (let i = 0; i < count; i += 1) {
      const cell = data.cells.get(query.since + i * grainMs);
      if (cell === undefined) states.push('gap');
      else states.push(cell.silentFailed.size > 0 && cell.silentFailed.size * 2 >= cell.active ? 'blocked' : 'clear');
    }
    const lastWithData = Math.max(states.lastIndexOf('blocked'), states.lastIndexOf('clear'));
    for (const run of findRuns(states, options.maxGapBuckets)) {
      const probes = new Set<number>();
      let measurements = 0;
      let failed = 0;
      for (let i = run.first; i <= run.last; i += 1) {
        const cell = data.cells.get(query.since + i * grainMs);
        if (cell === undefined) continue;
        measurements += cell.count;
        if (states[i] !== 'blocked') continue;
        failed += cell.lateFailed;
        for (const p of cell.silentFailed) probes.add(p);
      }
      if (probes.size < need) continue;
      const singleProbe = probes.size < options.minProbes;
      const onsetMs = query.since + run.first * grainMs;
      const endMs = query.since + (run.last + 1) * grainMs;
      episodes.push({
        id: episodeId('shutdown', asn, null, onsetMs),
        kind: 'shutdown',
        domain: null,
        asn,
        onsetMs,
        endMs,
        ongoing: query.until >= options.nowMs - grainMs && run.last === lastWithData && count - 1 - run.last <= options.maxGapBuckets,
        grain: query.grain,
        blockingTypes: ['shutdown'],
        probes: probes.size,
        measurements,
        anomalies: failed,
        confirmed: 0,
        gapBuckets: run.gapBuckets,
        singleProbe,
        confidence: episodeConfidence(probes.size, failed, 0, singleProbe),
        evidence: evidenceIds(store, { asns: [asn], since: onsetMs, until: endMs, failed: true }, options.evidenceLimit),
      });
    }
  }
  return episodes;
}
