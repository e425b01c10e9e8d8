import { type Scenario, type Span, roundTimes, targetDomain, within } from './scenario.js';

/**
 * What the collector must find, derived from the scenario alone, and the
 * comparison with what it did find (its public API's episodes).
 */

/** A network of the lab as the truth names it. */
export interface TruthNetwork {
  readonly id: string;
  readonly asn: number;
  /** e.g. "AS9198 Kazakhtelecom". */
  readonly name: string;
}

/** An episode the scenario scripts. */
export interface ExpectedEpisode extends Span {
  readonly kind: 'blocking' | 'shutdown';
  /** null for a shutdown (the whole network). */
  readonly domain: string | null;
  readonly network: string;
  readonly asn: number;
  /** The blocking type the collector must name first ('shutdown' for a shutdown). */
  readonly blockingType: string;
}

/** An episode as GET /api/v1/episodes answers it (the fields the demo reads). */
export interface ApiEpisode {
  readonly id: string;
  readonly kind: 'blocking' | 'shutdown';
  readonly domain: string | null;
  readonly probe_asn: number;
  readonly onset: string;
  readonly end: string;
  readonly onset_local?: string;
  readonly end_local?: string;
  readonly ongoing: boolean;
  readonly grain: string;
  readonly blocking_types: readonly string[];
  readonly probes: number;
  readonly measurements: number;
  readonly anomalies: number;
  readonly confirmed: number;
  readonly gap_buckets: number;
  readonly single_probe: boolean;
  readonly confidence: number;
  readonly evidence_url: string;
}

/** One row of the comparison: a scripted episode and the one found for it. */
export interface EpisodeCheck {
  /** Undefined: the collector found an episode the scenario does not script. */
  readonly expected: ExpectedEpisode | undefined;
  /** Undefined: the collector missed it. */
  readonly found: ApiEpisode | undefined;
  readonly ok: boolean;
  /** Why not ok, in words. */
  readonly problems: readonly string[];
}

function asnOf(networks: readonly TruthNetwork[], id: string): number {
  const n = networks.find((x) => x.id === id);
  if (n === undefined) throw new Error(`truth: network ${id} is not in the lab`);
  return n.asn;
}

/**
 * The episodes the scenario scripts: one blocking episode per blocking rule
 * and measured domain it covers, one shutdown episode per shutdown. Sorted
 * like the API (onset, ASN, domain).
 */
export function expectedEpisodes(scenario: Scenario, networks: readonly TruthNetwork[]): ExpectedEpisode[] {
  const measured = new Set(scenario.targets.map(targetDomain));
  const out: ExpectedEpisode[] = [];
  for (const rule of scenario.blocking) {
    for (const domain of rule.domains) {
      if (!measured.has(domain)) continue;
      out.push({ kind: 'blocking', domain, network: rule.network, asn: asnOf(networks, rule.network), blockingType: rule.blockingType, fromMs: rule.fromMs, toMs: rule.toMs });
    }
  }
  for (const s of scenario.shutdowns) {
    out.push({ kind: 'shutdown', domain: null, network: s.network, asn: asnOf(networks, s.network), blockingType: 'shutdown', fromMs: s.fromMs, toMs: s.toMs });
  }
  return out.sort((a, b) => a.fromMs - b.fromMs || a.asn - b.asn || (a.domain ?? '').localeCompare(b.domain ?? ''));
}

/** Measurements the scenario makes: per probe name, and in total. */
export function expectedMeasurements(scenario: Scenario): { readonly total: number; readonly perProbe: ReadonlyMap<string, number> } {
  const perProbe = new Map<string, number>();
  for (const t of roundTimes(scenario)) {
    for (const p of scenario.probes) {
      if (within(p, t)) perProbe.set(p.name, (perProbe.get(p.name) ?? 0) + scenario.targets.length);
    }
  }
  let total = 0;
  for (const n of perProbe.values()) total += n;
  return { total, perProbe };
}

/**
 * The rounds whose measurements a probe could not upload when it made them
 * (its network shut down, or the probe cut off from the collector): they
 * reach the collector late, from the outbox.
 */
export function lateRounds(scenario: Scenario, probe: string): number[] {
  const p = scenario.probes.find((x) => x.name === probe);
  if (p === undefined) return [];
  const cuts: Span[] = [...scenario.offline.filter((o) => o.probe === probe), ...scenario.shutdowns.filter((s) => s.network === p.network)];
  return roundTimes(scenario).filter((t) => within(p, t) && cuts.some((c) => within(c, t)));
}

/**
 * Compare the episodes found with the scripted ones: same kind, domain and
 * ASN; onset and end each within `toleranceMs` (one bucket of the grain
 * asked for); the scripted blocking type first among the dominant types.
 * Every scripted episode gets a row, and so does every episode found that
 * nothing scripts.
 */
export function compareEpisodes(expected: readonly ExpectedEpisode[], found: readonly ApiEpisode[], toleranceMs: number): EpisodeCheck[] {
  const unused = new Set(found);
  const rows: EpisodeCheck[] = [];
  for (const e of expected) {
    let best: { episode: ApiEpisode; distance: number } | undefined;
    for (const f of unused) {
      if (f.kind !== e.kind || f.domain !== e.domain || f.probe_asn !== e.asn) continue;
      const distance = Math.abs(Date.parse(f.onset) - e.fromMs) + Math.abs(Date.parse(f.end) - e.toMs);
      if (best === undefined || distance < best.distance) best = { episode: f, distance };
    }
    if (best === undefined) {
      rows.push({ expected: e, found: undefined, ok: false, problems: ['not found'] });
      continue;
    }
    const f = best.episode;
    unused.delete(f);
    const problems: string[] = [];
    const onsetOff = Date.parse(f.onset) - e.fromMs;
    const endOff = Date.parse(f.end) - e.toMs;
    if (Math.abs(onsetOff) > toleranceMs) problems.push(`onset ${Math.round(onsetOff / 60_000)} min off`);
    if (Math.abs(endOff) > toleranceMs) problems.push(`end ${Math.round(endOff / 60_000)} min off`);
    if (f.blocking_types[0] !== e.blockingType) problems.push(`type ${f.blocking_types.join('+') || 'none'}, scripted ${e.blockingType}`);
    rows.push({ expected: e, found: f, ok: problems.length === 0, problems });
  }
  for (const f of unused) rows.push({ expected: undefined, found: f, ok: false, problems: ['not scripted'] });
  return rows;
}
