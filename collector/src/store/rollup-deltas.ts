import { CONNECTIVITY_TEST_NAME, type MeasurementSource } from './store.js';

/** The columns of a measurement that its rollup rows are keyed by. */
export interface RollupFacts {
  readonly domain: string;
  readonly asn: number;
  readonly startMs: number;
  readonly receivedMs: number;
  readonly cc: string;
  readonly categoryCode: string;
  readonly source: MeasurementSource;
  readonly verdict: string;
  readonly blockingType: string;
  readonly anomaly: boolean;
  readonly confirmed: boolean;
  readonly failed: boolean;
  /** The failure of the first failing step; null or '' when no step failed. */
  readonly failure: string | null;
  readonly testName: string;
  readonly probeRef: number;
}

/** A counter row of rollup_5m / rollup_1h. */
export interface VerdictDelta {
  readonly domain: string;
  readonly asn: number;
  readonly bucketMs: number;
  readonly cc: string;
  readonly categoryCode: string;
  readonly source: MeasurementSource;
  readonly verdict: string;
  readonly blockingType: string;
  n: number;
  anomalyN: number;
  confirmedN: number;
}

/** A counter row of anomaly_probes. */
export interface AnomalyProbeDelta {
  readonly domain: string;
  readonly asn: number;
  readonly bucketMs: number;
  readonly probeRef: number;
  readonly source: MeasurementSource;
  n: number;
}

/**
 * A counter row of probe_activity: what shutdown detection needs per (ASN,
 * 5-minute bucket of start time, probe), see timeline/shutdowns.ts.
 */
export interface ActivityDelta {
  readonly asn: number;
  readonly bucketMs: number;
  readonly probeRef: number;
  readonly source: MeasurementSource;
  n: number;
  /** Steppe uploads received more than lateAfterMs after they started (imports never). */
  lateN: number;
  /** Of those, the failed ones (`failed`: a failure or an anomaly). */
  lateFailedN: number;
  /** Measurements showing the probe was online: see {@link showsConnectivity}. */
  reachedN: number;
  /** The probe's own connectivity checks (test_name 'connectivity', source 'steppe'). */
  checkN: number;
  /** Of those, checks that did not reach their host. */
  checkFailedN: number;
}

/**
 * Whether a measurement shows that its probe was online when it ran: no
 * step failed, or it has a verdict. A verdict other than undetermined ('')
 * needs the control's answer, which the probe fetched over the network
 * while measuring (or, for self-evident evidence, an answer from the
 * network itself); a blocked site's measurement therefore counts too. Inside a
 * shutdown every step fails and the control is unreachable: no verdict.
 * Mirrored by migration 003's backfill.
 */
export function showsConnectivity(f: Pick<RollupFacts, 'failure' | 'verdict'>): boolean {
  return f.failure === null || f.failure === '' || f.verdict !== '';
}

export const FIVE_MINUTES_MS = 300_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Start of the bucket of `grainMs` holding `ms` (also right for times before 1970). */
export function bucketStart(ms: number, grainMs: number): number {
  return Math.floor(ms / grainMs) * grainMs;
}

const SEP = '\u0000';

/**
 * Rollup changes of one transaction, summed in memory first: a batch from
 * one probe touches a handful of buckets, so N measurements become a few
 * upserts instead of 4·N.
 */
export class RollupDeltas {
  readonly fiveMinute = new Map<string, VerdictDelta>();
  readonly hourly = new Map<string, VerdictDelta>();
  readonly daily = new Map<string, VerdictDelta>();
  readonly anomalyProbes = new Map<string, AnomalyProbeDelta>();
  readonly activity = new Map<string, ActivityDelta>();
  readonly #lateAfterMs: number;

  constructor(lateAfterMs: number) {
    this.#lateAfterMs = lateAfterMs;
  }

  /** Count a measurement in (`sign` 1) or out of (`sign` -1) the rollups. */
  add(f: RollupFacts, sign: 1 | -1): void {
    const b5 = bucketStart(f.startMs, FIVE_MINUTES_MS);
    // Runs for every stored measurement: one key prefix for the three
    // grains, built by concatenation (no arrays to join).
    const verdictKey = f.domain + SEP + f.asn + SEP + f.cc + SEP + f.categoryCode + SEP + f.source + SEP + f.verdict + SEP + f.blockingType + SEP;
    addVerdict(this.fiveMinute, verdictKey, f, b5, sign);
    addVerdict(this.hourly, verdictKey, f, bucketStart(f.startMs, HOUR_MS), sign);
    addVerdict(this.daily, verdictKey, f, bucketStart(f.startMs, DAY_MS), sign);
    if (f.anomaly) {
      const key = f.domain + SEP + f.asn + SEP + b5 + SEP + f.probeRef;
      const row = this.anomalyProbes.get(key);
      if (row === undefined) this.anomalyProbes.set(key, { domain: f.domain, asn: f.asn, bucketMs: b5, probeRef: f.probeRef, source: f.source, n: sign });
      else row.n += sign;
    }
    // Lateness means "waited in a probe's outbox": only Steppe's own uploads
    // have one. An import's received time is the day it was imported, years
    // after an OONI measurement was made, and says nothing about the network.
    const own = f.source === 'steppe';
    const late = own && f.receivedMs - f.startMs > this.#lateAfterMs;
    const reached = showsConnectivity(f);
    const check = own && f.testName === CONNECTIVITY_TEST_NAME;
    const key = f.asn + SEP + b5 + SEP + f.probeRef;
    const row = this.activity.get(key);
    const lateN = late ? sign : 0;
    const lateFailedN = late && f.failed ? sign : 0;
    const reachedN = reached ? sign : 0;
    const checkN = check ? sign : 0;
    const checkFailedN = check && !reached ? sign : 0;
    if (row === undefined) this.activity.set(key, { asn: f.asn, bucketMs: b5, probeRef: f.probeRef, source: f.source, n: sign, lateN, lateFailedN, reachedN, checkN, checkFailedN });
    else {
      row.n += sign;
      row.lateN += lateN;
      row.lateFailedN += lateFailedN;
      row.reachedN += reachedN;
      row.checkN += checkN;
      row.checkFailedN += checkFailedN;
    }
  }

  get empty(): boolean {
    return this.fiveMinute.size === 0;
  }
}

function addVerdict(map: Map<string, VerdictDelta>, verdictKey: string, f: RollupFacts, bucketMs: number, sign: 1 | -1): void {
  const key = verdictKey + bucketMs;
  const row = map.get(key);
  const a = f.anomaly ? sign : 0;
  const c = f.confirmed ? sign : 0;
  if (row === undefined) {
    map.set(key, { domain: f.domain, asn: f.asn, bucketMs, cc: f.cc, categoryCode: f.categoryCode, source: f.source, verdict: f.verdict, blockingType: f.blockingType, n: sign, anomalyN: a, confirmedN: c });
  } else {
    row.n += sign;
    row.anomalyN += a;
    row.confirmedN += c;
  }
}
