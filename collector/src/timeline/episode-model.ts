import { idToString } from '@steppe/shared';
import type { MeasurementStore, RollupGrain } from '../store/store.js';

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

/** Confidence of an episode (episodes.ts, rule 4). */
export function episodeConfidence(probes: number, anomalies: number, confirmed: number, singleProbe: boolean): number {
  const c = anomalies === 0 ? 0 : Math.min(1, confirmed / anomalies);
  const value = (1 - 0.5 ** Math.min(probes, 30) * (1 - 0.9 * c)) * (singleProbe ? 0.6 : 1);
  return Math.round(value * 1000) / 1000;
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

/** Evidence ids for an episode: confirmed anomalies first, then other anomalies. */
export async function evidenceIds(store: MeasurementStore, filter: { domains?: readonly string[]; asns: readonly number[]; since: number; until: number; failed?: boolean; confirmed?: number }, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const base = {
    since: filter.since,
    until: filter.until,
    probeAsns: filter.asns,
    ...(filter.domains === undefined ? {} : { domains: filter.domains }),
  };
  const ids: string[] = [];
  const strongest = filter.failed === true ? { ...base, failed: true } : { ...base, confirmed: true };
  // The rollups already said whether anything was confirmed: skip a scan that would find nothing.
  if (filter.failed === true || filter.confirmed !== 0) {
    for (const r of (await store.queryMeasurements(strongest, { limit, order: 'asc' })).results) ids.push(idToString(r.id));
  }
  if (ids.length < limit && filter.failed !== true) {
    for (const r of (await store.queryMeasurements({ ...base, anomaly: true, confirmed: false }, { limit: limit - ids.length, order: 'asc' })).results) ids.push(idToString(r.id));
  }
  return ids;
}

