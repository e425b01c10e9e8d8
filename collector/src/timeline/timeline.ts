import { InvalidArgumentError, VERDICTS } from '@steppe/shared';
import { type AnalyticsStore, GRAIN_MS, type MeasurementSource, type RollupDimension } from '../store/store.js';

/** Grains a timeline can be drawn at. */
export type TimelineGrain = '5m' | '1h' | '1d';
export const TIMELINE_GRAINS: readonly TimelineGrain[] = ['5m', '1h', '1d'];

/** How series are split: one overall, or one per domain, ASN, or (domain, ASN) pair. */
export type TimelineSplit = 'none' | 'domain' | 'asn' | 'domain_asn';
export const TIMELINE_SPLITS: readonly TimelineSplit[] = ['none', 'domain', 'asn', 'domain_asn'];

/** What to draw. Times are Unix ms; the range is widened to whole buckets. */
export interface TimelineQuery {
  readonly since: number;
  readonly until: number;
  readonly grain: TimelineGrain;
  readonly split?: TimelineSplit;
  readonly domains?: readonly string[];
  readonly asns?: readonly number[];
  readonly ccs?: readonly string[];
  readonly categoryCodes?: readonly string[];
  readonly sources?: readonly MeasurementSource[];
}

/**
 * The state a bucket is drawn in. `no_data` is its own state: a bucket where
 * no probe reported is never shown as accessible.
 */
export type BucketState = 'no_data' | 'accessible' | 'anomaly' | 'confirmed';

/** One bucket of a series. */
export interface TimelineBucket {
  readonly startMs: number;
  readonly endMs: number;
  readonly state: BucketState;
  readonly measurements: number;
  /** Measurements per verdict (every verdict present, zeros included). */
  readonly verdicts: Readonly<Record<string, number>>;
  readonly anomalies: number;
  readonly confirmed: number;
  /** anomalies / measurements; null when there are no measurements. */
  readonly anomalyShare: number | null;
  readonly confirmedShare: number | null;
}

/** One strip of the timeline. */
export interface TimelineSeries {
  readonly domain: string | null;
  readonly asn: number | null;
  readonly buckets: readonly TimelineBucket[];
}

export interface Timeline {
  readonly since: number;
  readonly until: number;
  readonly grain: TimelineGrain;
  readonly split: TimelineSplit;
  readonly series: readonly TimelineSeries[];
}

/** Share of anomalous measurements from which a bucket is drawn as anomalous. */
export const ANOMALY_STATE_SHARE = 0.5;
/** At most this many buckets in one answer (all series together). */
export const MAX_TIMELINE_CELLS = 200_000;

const ZERO_VERDICTS: Readonly<Record<string, number>> = Object.fromEntries(VERDICTS.map((v) => [v, 0]));

/** The state of a bucket from its counts (see ANOMALY_STATE_SHARE). */
export function bucketState(measurements: number, anomalies: number, confirmed: number): BucketState {
  if (measurements === 0) return 'no_data';
  if (anomalies / measurements < ANOMALY_STATE_SHARE) return 'accessible';
  return confirmed > 0 ? 'confirmed' : 'anomaly';
}

/** [since, until) widened to whole buckets of `grainMs`. */
export function alignRange(since: number, until: number, grainMs: number): [number, number] {
  return [Math.floor(since / grainMs) * grainMs, Math.ceil(until / grainMs) * grainMs];
}

function checkQuery(q: TimelineQuery): void {
  if (!Number.isSafeInteger(q.since) || !Number.isSafeInteger(q.until) || q.until <= q.since) {
    throw new InvalidArgumentError(`since/until: expected since < until, got ${q.since} and ${q.until}`);
  }
  if (!TIMELINE_GRAINS.includes(q.grain)) throw new InvalidArgumentError(`grain: expected one of ${TIMELINE_GRAINS.join(', ')}`);
  if (q.split !== undefined && !TIMELINE_SPLITS.includes(q.split)) throw new InvalidArgumentError(`split: expected one of ${TIMELINE_SPLITS.join(', ')}`);
}

/**
 * Build a timeline from rollups only (never raw rows): every bucket of the
 * range is present in every series, those without measurements as `no_data`.
 */
export async function buildTimeline(store: Pick<AnalyticsStore, 'rollups'>, query: TimelineQuery): Promise<Timeline> {
  checkQuery(query);
  const split = query.split ?? 'none';
  const grainMs = GRAIN_MS[query.grain];
  const [since, until] = alignRange(query.since, query.until, grainMs);
  const bucketCount = (until - since) / grainMs;
  if (bucketCount > MAX_TIMELINE_CELLS) {
    throw new InvalidArgumentError(`since/until: ${bucketCount} buckets of ${query.grain} is more than ${MAX_TIMELINE_CELLS}; use a coarser grain or a shorter range`);
  }
  const groupBy: RollupDimension[] = ['verdict'];
  if (split === 'domain' || split === 'domain_asn') groupBy.push('domain');
  if (split === 'asn' || split === 'domain_asn') groupBy.push('asn');
  const rows = await store.rollups({
    since,
    until,
    grain: query.grain,
    groupBy,
    ...(query.domains === undefined ? {} : { domains: query.domains }),
    ...(query.asns === undefined ? {} : { asns: query.asns }),
    ...(query.ccs === undefined ? {} : { ccs: query.ccs }),
    ...(query.categoryCodes === undefined ? {} : { categoryCodes: query.categoryCodes }),
    ...(query.sources === undefined ? {} : { sources: query.sources }),
  });

  interface Acc { n: number; a: number; c: number; verdicts: Record<string, number> }
  const seriesKeys = new Map<string, { domain: string | null; asn: number | null; cells: Map<number, Acc> }>();
  const keyOf = (domain: string | null, asn: number | null): string => `${domain ?? ''}\u0000${asn ?? ''}`;
  // Series asked for by name are drawn even when they hold no data at all.
  if (split === 'domain' || split === 'domain_asn') {
    for (const d of query.domains ?? []) {
      if (split === 'domain') seriesKeys.set(keyOf(d, null), { domain: d, asn: null, cells: new Map() });
      else for (const a of query.asns ?? []) seriesKeys.set(keyOf(d, a), { domain: d, asn: a, cells: new Map() });
    }
  }
  if (split === 'asn') for (const a of query.asns ?? []) seriesKeys.set(keyOf(null, a), { domain: null, asn: a, cells: new Map() });
  if (split === 'none') seriesKeys.set(keyOf(null, null), { domain: null, asn: null, cells: new Map() });

  for (const r of rows) {
    const domain = r.domain ?? null;
    const asn = r.asn ?? null;
    const key = keyOf(domain, asn);
    let series = seriesKeys.get(key);
    if (series === undefined) {
      series = { domain, asn, cells: new Map() };
      seriesKeys.set(key, series);
    }
    let cell = series.cells.get(r.bucketMs);
    if (cell === undefined) {
      cell = { n: 0, a: 0, c: 0, verdicts: {} };
      series.cells.set(r.bucketMs, cell);
    }
    cell.n += r.count;
    cell.a += r.anomalyCount;
    cell.c += r.confirmedCount;
    const verdict = r.verdict ?? '';
    cell.verdicts[verdict] = (cell.verdicts[verdict] ?? 0) + r.count;
  }
  if (seriesKeys.size * bucketCount > MAX_TIMELINE_CELLS) {
    throw new InvalidArgumentError(`split: ${seriesKeys.size} series × ${bucketCount} buckets is more than ${MAX_TIMELINE_CELLS}; narrow the filters or use a coarser grain`);
  }

  const series = [...seriesKeys.values()].sort((x, y) => (x.domain ?? '').localeCompare(y.domain ?? '') || (x.asn ?? 0) - (y.asn ?? 0)).map((s) => {
    const buckets: TimelineBucket[] = [];
    for (let t = since; t < until; t += grainMs) {
      const cell = s.cells.get(t);
      const verdicts: Record<string, number> = { ...ZERO_VERDICTS };
      if (cell === undefined) {
        buckets.push({ startMs: t, endMs: t + grainMs, state: 'no_data', measurements: 0, verdicts, anomalies: 0, confirmed: 0, anomalyShare: null, confirmedShare: null });
        continue;
      }
      for (const [v, n] of Object.entries(cell.verdicts)) verdicts[v === '' ? 'unanalysed' : v] = (verdicts[v === '' ? 'unanalysed' : v] ?? 0) + n;
      buckets.push({
        startMs: t,
        endMs: t + grainMs,
        // Undetermined measurements (verdict '': no control, e.g. a network
        // shut down) show neither access nor blocking: a bucket of only
        // those is drawn as no data, never as accessible.
        state: bucketState(cell.n - (cell.verdicts[''] ?? 0), cell.a, cell.c),
        measurements: cell.n,
        verdicts,
        anomalies: cell.a,
        confirmed: cell.c,
        anomalyShare: cell.a / cell.n,
        confirmedShare: cell.c / cell.n,
      });
    }
    return { domain: s.domain, asn: s.asn, buckets };
  });
  return { since, until, grain: query.grain, split, series };
}
