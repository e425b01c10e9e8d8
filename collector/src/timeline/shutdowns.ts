import { type AnalyticsStore, CONNECTIVITY_TEST_NAME, GRAIN_MS, type MeasurementStore, type ProbeActivityQuery, type ProbeActivityRow } from '../store/store.js';
import { type Episode, episodeId, evidenceIds, shutdownConfidence } from './episode-model.js';

/**
 * Shutdown detection (docs/design/dd-007-episodes.md). A shutdown is the
 * loss of connectivity to *everything*, not the blocking of many sites: a
 * site reachable from the network rules it out.
 *
 * Read per (ASN, 5-minute cell of start time, probe) from probe_activity,
 * whatever the grain asked for (the finest the store keeps, so that one
 * reachable site an hour later does not hide a cut, nor a cut hide it):
 * 1. A probe is *dark* in a cell when none of its measurements there shows
 *    connectivity (every step failed and no verdict: the control, fetched
 *    while measuring, did not answer either) and it shows the uplink was
 *    lost: its own connectivity check failed there, or its results arrived
 *    late (they waited in its outbox). Imports are never late and make no
 *    checks: they can never make a probe dark.
 * 2. A cell is *dark* when no measurement in it, from any probe of the ASN,
 *    shows connectivity, and dark probes are at least half of the probes
 *    active in it (a probe delivering failures on time had an uplink);
 *    *clear* when it has measurements but is not dark; a cell without
 *    measurements is a gap (probes going silent together leave gaps, and
 *    their outboxes fill them later).
 * 3. Dark cells form runs as blocked buckets do: a clear cell ends a run,
 *    cells without data between two dark ones are bridged when they leave at
 *    most `maxGapBuckets` whole buckets of the grain between them. A run's
 *    onset and end are widened to buckets of the grain.
 * 4. Minimum evidence: a run is a shutdown only with at least `minProbes`
 *    (never fewer than 2) distinct dark probes and `minFailures` failed
 *    measurements in its dark cells. There is no single-probe exception: a
 *    lone probe losing everything, its check included, looks exactly like
 *    its own router failing. Runs that passed and overlap once widened to
 *    the grain are merged.
 * 5. Confidence = 1 − 0.5^p · (1 − 0.9·k), p the dark probes, k the share of
 *    them whose own connectivity check failed inside the run (seen, not
 *    inferred from late delivery).
 */

/** What shutdown detection looks at: the probe-activity query it runs. */
export type ShutdownQuery = ProbeActivityQuery;

export interface ShutdownOptions {
  readonly minProbes: number;
  readonly minFailures: number;
  readonly maxGapBuckets: number;
  readonly evidenceLimit: number;
  readonly nowMs: number;
}

/** A shutdown needs at least this many distinct probes, whatever the options say. */
export const MIN_SHUTDOWN_PROBES = 2;

const CELL_MS = GRAIN_MS['5m'];

/** A 5-minute cell of one ASN. */
interface Cell {
  readonly ms: number;
  active: number;
  count: number;
  reached: number;
  readonly dark: Set<number>;
  readonly checkFailed: Set<number>;
}

/** Whether a probe's activity in a cell makes it dark (rule 1). */
export function probeIsDark(a: Pick<ProbeActivityRow, 'count' | 'reachedCount' | 'lateCount' | 'checkFailedCount'>): boolean {
  return a.count > 0 && a.reachedCount === 0 && (a.lateCount > 0 || a.checkFailedCount > 0);
}

/** Whether a cell is dark (rule 2). */
function cellIsDark(c: Cell): boolean {
  return c.reached === 0 && c.dark.size > 0 && c.dark.size * 2 >= c.active;
}

/** Shutdown episodes per ASN in a range aligned to the grain. */
export async function detectShutdowns(store: Pick<AnalyticsStore, 'outageSpans' | 'probeActivity'> & Pick<MeasurementStore, 'queryMeasurements'>, query: ShutdownQuery, options: ShutdownOptions): Promise<Episode[]> {
  const grainMs = GRAIN_MS[query.grain];
  const sources = query.sources === undefined ? {} : { sources: query.sources };
  // Most of the time no network went dark: ask first where late failures or
  // failed checks are at all (a partial index), and read only the activity
  // around them (a run holds only cells with them, bridged by short gaps).
  const spans = await store.outageSpans({ since: query.since, until: query.until, ...(query.asns === undefined ? {} : { asns: query.asns }), ...sources });
  const episodes: Episode[] = [];
  const pad = (options.maxGapBuckets + 1) * grainMs;
  for (const span of spans) {
    const since = Math.max(query.since, Math.floor((span.firstBucketMs - pad) / grainMs) * grainMs);
    const until = Math.min(query.until, Math.ceil((span.lastBucketMs + CELL_MS + pad) / grainMs) * grainMs);
    if (until <= since) continue;
    const activity = await store.probeActivity({ since, until, grain: '5m', asns: [span.asn], ...sources });
    const runs = shutdownRuns(activity, { since, until, grainMs, reachesEnd: until === query.until && query.until >= options.nowMs - grainMs }, options);
    for (const run of runs) {
      episodes.push({
        id: episodeId('shutdown', span.asn, null, run.onsetMs),
        kind: 'shutdown',
        domain: null,
        asn: span.asn,
        onsetMs: run.onsetMs,
        endMs: run.endMs,
        ongoing: run.ongoing,
        grain: query.grain,
        blockingTypes: ['shutdown'],
        probes: run.probes.size,
        measurements: run.measurements,
        anomalies: run.failed,
        confirmed: 0,
        gapBuckets: run.gapBuckets,
        singleProbe: false,
        confidence: shutdownConfidence(run.probes.size, run.checkFailed.size),
        evidence: await evidenceIds(store, { asns: [span.asn], since: run.onsetMs, until: run.endMs, failed: true, firstTestNames: [CONNECTIVITY_TEST_NAME], ...sources }, options.evidenceLimit),
      });
    }
  }
  return episodes;
}

/** A shutdown found in one ASN's activity. */
export interface ShutdownRun {
  readonly onsetMs: number;
  readonly endMs: number;
  readonly ongoing: boolean;
  readonly probes: ReadonlySet<number>;
  /** Probes whose own connectivity check failed in the run's dark cells. */
  readonly checkFailed: ReadonlySet<number>;
  /** Every measurement of the ASN in [onsetMs, endMs). */
  readonly measurements: number;
  /** Failed measurements in the dark cells. */
  readonly failed: number;
  /** Buckets of the grain inside the run without any measurement. */
  readonly gapBuckets: number;
}

interface Window {
  readonly since: number;
  readonly until: number;
  readonly grainMs: number;
  /** The window ends where the query does, and that is now (for `ongoing`). */
  readonly reachesEnd: boolean;
}

/** Rules 1–4 over one ASN's 5-minute activity rows in [since, until). */
export function shutdownRuns(activity: readonly ProbeActivityRow[], w: Window, options: Pick<ShutdownOptions, 'minProbes' | 'minFailures' | 'maxGapBuckets'>): ShutdownRun[] {
  const byMs = new Map<number, Cell>();
  for (const a of activity) {
    let cell = byMs.get(a.bucketMs);
    if (cell === undefined) byMs.set(a.bucketMs, (cell = { ms: a.bucketMs, active: 0, count: 0, reached: 0, dark: new Set(), checkFailed: new Set() }));
    cell.active += 1;
    cell.count += a.count;
    cell.reached += a.reachedCount;
    if (probeIsDark(a)) {
      cell.dark.add(a.probe);
      if (a.checkFailedCount > 0) cell.checkFailed.add(a.probe);
    }
  }
  const cells = [...byMs.values()].sort((x, y) => x.ms - y.ms);
  const bucketOf = (ms: number): number => Math.floor((ms - w.since) / w.grainMs);

  // Runs of dark cells (rule 3): a clear cell ends one; so does a stretch
  // without data that leaves more than maxGapBuckets whole buckets between.
  const raw: Cell[][] = [];
  let current: Cell[] | undefined;
  for (const cell of cells) {
    if (!cellIsDark(cell)) {
      current = undefined;
      continue;
    }
    const last = current?.[current.length - 1];
    if (current !== undefined && last !== undefined && bucketOf(cell.ms) - bucketOf(last.ms) - 1 <= options.maxGapBuckets) current.push(cell);
    else raw.push((current = [cell]));
  }

  // Minimum evidence (rule 4), then widen to the grain and merge overlaps.
  const minProbes = Math.max(MIN_SHUTDOWN_PROBES, options.minProbes);
  const kept: { first: number; last: number; lastDarkMs: number; probes: Set<number>; checkFailed: Set<number>; failed: number }[] = [];
  for (const run of raw) {
    const probes = new Set<number>();
    const checkFailed = new Set<number>();
    let failed = 0;
    for (const c of run) {
      for (const p of c.dark) probes.add(p);
      for (const p of c.checkFailed) checkFailed.add(p);
      // Nothing in a dark cell showed connectivity: every measurement there failed.
      failed += c.count;
    }
    if (probes.size < minProbes || failed < options.minFailures) continue;
    const first = bucketOf(run[0]?.ms ?? w.since);
    const lastDarkMs = run[run.length - 1]?.ms ?? w.since;
    const previous = kept[kept.length - 1];
    if (previous !== undefined && first <= previous.last) {
      previous.last = Math.max(previous.last, bucketOf(lastDarkMs));
      previous.lastDarkMs = lastDarkMs;
      for (const p of probes) previous.probes.add(p);
      for (const p of checkFailed) previous.checkFailed.add(p);
      previous.failed += failed;
    } else {
      kept.push({ first, last: bucketOf(lastDarkMs), lastDarkMs, probes, checkFailed, failed });
    }
  }

  const buckets = Math.round((w.until - w.since) / w.grainMs);
  const lastCellMs = cells[cells.length - 1]?.ms ?? w.since;
  return kept.map((k, i) => {
    const onsetMs = w.since + k.first * w.grainMs;
    const endMs = w.since + (k.last + 1) * w.grainMs;
    let measurements = 0;
    const withData = new Set<number>();
    for (const c of cells) {
      if (c.ms < onsetMs || c.ms >= endMs) continue;
      measurements += c.count;
      withData.add(bucketOf(c.ms));
    }
    // Ongoing: the window reaches now, no measurement started after this
    // run's last dark cell, and its end is within maxGap buckets of now.
    const ongoing = w.reachesEnd && i === kept.length - 1 && lastCellMs <= k.lastDarkMs && buckets - 1 - k.last <= options.maxGapBuckets;
    return { onsetMs, endMs, ongoing, probes: k.probes, checkFailed: k.checkFailed, measurements, failed: k.failed, gapBuckets: k.last - k.first + 1 - withData.size };
  });
}
