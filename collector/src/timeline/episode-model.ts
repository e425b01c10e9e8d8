import { idToString } from '@steppe/shared';
import type { MeasurementPage, MeasurementSource, MeasurementStore, RollupGrain } from '../store/store.js';

/** The episode record and the rules shared by blocking and shutdown detection (see episodes.ts). */

export type EpisodeKind = 'blocking' | 'shutdown';

/** A detected episode. */
export interface Episode {
  /** Stable for the same data: kind, network, domain and onset. */
  readonly id: string;
  readonly kind: EpisodeKind;
  /** null for a shutdown (the whole network). */
  readonly domain: string | null;
  readonly asn: number;
  readonly onsetMs: number;
  /** End of the last blocked bucket. */
  readonly endMs: number;
  /** True when the last bucket of the range with data was still blocked. */
  readonly ongoing: boolean;
  readonly grain: RollupGrain;
  /** Blocking types with at least 20 % of the anomalies, most frequent first. */
  readonly blockingTypes: readonly string[];
  readonly probes: number;
  readonly measurements: number;
  readonly anomalies: number;
  readonly confirmed: number;
  /** Buckets without data bridged inside the episode. */
  readonly gapBuckets: number;
  readonly singleProbe: boolean;
  /** 0..1; see the module comment. */
  readonly confidence: number;
  /** Ids (UUID text) of evidence measurements, confirmed ones first, at most `evidenceLimit`. */
  readonly evidence: readonly string[];
}

/**
 * Confidence 1 − 0.5^p · (1 − 0.9·s), × 0.6 for a single probe, rounded to
 * 0.001 (docs/design/dd-007-episodes.md): each independent probe halves the
 * doubt left, and direct evidence (share s) removes 90 % of what remains.
 */
function confidence(probes: number, strongShare: number, singleProbe: boolean): number {
  const s = Math.min(1, Math.max(0, strongShare));
  const value = (1 - 0.5 ** Math.min(probes, 30) * (1 - 0.9 * s)) * (singleProbe ? 0.6 : 1);
  return Math.round(value * 1000) / 1000;
}

/** Confidence of a blocking episode (episodes.ts, rule 4): s is the confirmed share of its anomalies. */
export function episodeConfidence(probes: number, anomalies: number, confirmed: number, singleProbe: boolean): number {
  return confidence(probes, anomalies === 0 ? 0 : confirmed / anomalies, singleProbe);
}

/** Confidence of a shutdown (shutdowns.ts, rule 5): s is the share of its probes whose own connectivity check failed in it. */
export function shutdownConfidence(probes: number, probesWithFailedCheck: number): number {
  return confidence(probes, probes === 0 ? 0 : probesWithFailedCheck / probes, false);
}

/** Blocking types with at least 20 % of the anomalies, most frequent first. */
export function dominantTypes(types: Readonly<Record<string, number>>): string[] {
  const total = Object.values(types).reduce((s, n) => s + n, 0);
  return Object.entries(types)
    .filter(([t, n]) => t !== '' && n > 0 && n >= 0.2 * total)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([t]) => t);
}

/** Stable text id of an episode. */
export function episodeId(kind: EpisodeKind, asn: number, domain: string | null, onsetMs: number): string {
  return `${kind}:AS${asn}:${domain ?? '*'}:${new Date(onsetMs).toISOString()}`;
}

/** A run of buckets that may become an episode. */
export interface Run {
  readonly first: number;
  readonly last: number;
  readonly gapBuckets: number;
}

/**
 * Runs of blocked buckets over a full bucket sequence, bridging short gaps
 * (rule 2). `states[i]` is 'blocked' | 'clear' | 'gap'.
 */
export function findRuns(states: readonly ('blocked' | 'clear' | 'gap')[], maxGapBuckets: number): Run[] {
  const runs: Run[] = [];
  let start = -1;
  let last = -1;
  let gaps = 0;
  let pendingGap = 0;
  const close = (): void => {
    if (start >= 0) runs.push({ first: start, last, gapBuckets: gaps });
    start = -1;
    gaps = 0;
    pendingGap = 0;
  };
  states.forEach((s, i) => {
    if (s === 'blocked') {
      if (start < 0) start = i;
      else gaps += pendingGap;
      pendingGap = 0;
      last = i;
    } else if (s === 'gap') {
      if (start >= 0) {
        pendingGap += 1;
        if (pendingGap > maxGapBuckets) close();
      }
    } else {
      close();
    }
  });
  close();
  return runs;
}

/** What evidenceIds looks for. */
export interface EvidenceFilter {
  readonly domains?: readonly string[];
  readonly asns: readonly number[];
  readonly since: number;
  readonly until: number;
  readonly sources?: readonly MeasurementSource[];
  /** Failed measurements (a shutdown's evidence) instead of anomalies. */
  readonly failed?: boolean;
  /** With `failed`: test names listed first (a shutdown lists its failed connectivity checks first). */
  readonly firstTestNames?: readonly string[];
  /** Confirmed anomalies the rollups counted: 0 skips a scan that would find nothing. */
  readonly confirmed?: number;
}

/**
 * Evidence ids for an episode: for blocking, confirmed anomalies first, then
 * other anomalies; for a shutdown (`failed`), failed measurements of
 * `firstTestNames` first, then any failed measurement.
 */
export async function evidenceIds(store: Pick<MeasurementStore, 'queryMeasurements'>, filter: EvidenceFilter, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const base = {
    since: filter.since,
    until: filter.until,
    probeAsns: filter.asns,
    ...(filter.domains === undefined ? {} : { domains: filter.domains }),
    ...(filter.sources === undefined ? {} : { sources: filter.sources }),
  };
  const ids: string[] = [];
  const add = (page: MeasurementPage): void => {
    for (const r of page.results) {
      const id = idToString(r.id);
      if (ids.length < limit && !ids.includes(id)) ids.push(id);
    }
  };
  if (filter.failed === true) {
    if (filter.firstTestNames !== undefined && filter.firstTestNames.length > 0) {
      add(await store.queryMeasurements({ ...base, failed: true, testNames: filter.firstTestNames }, { limit, order: 'asc' }));
    }
    // Asked for `limit` more: those already listed come back among them.
    if (ids.length < limit) add(await store.queryMeasurements({ ...base, failed: true }, { limit: Math.min(10_000, limit + ids.length), order: 'asc' }));
    return ids;
  }
  // The rollups already said whether anything was confirmed: skip a scan that would find nothing.
  if (filter.confirmed !== 0) add(await store.queryMeasurements({ ...base, confirmed: true }, { limit, order: 'asc' }));
  if (ids.length < limit) add(await store.queryMeasurements({ ...base, anomaly: true, confirmed: false }, { limit: limit - ids.length, order: 'asc' }));
  return ids;
}
