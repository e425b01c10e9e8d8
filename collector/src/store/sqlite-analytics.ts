import type { Database, Statement } from 'better-sqlite3';
import { InvalidArgumentError } from '@steppe/shared';
import { DAY_MS, FIVE_MINUTES_MS, HOUR_MS } from './rollup-deltas.js';
import {
  type AnomalyProbeQuery,
  type AsnProbeCount,
  type BlockedBucketQuery,
  type EpisodeRange,
  type OutageSpan,
  type EpisodeBucket,
  type EpisodeInputQuery,
  type MeasurementSource,
  type ProbeActivityQuery,
  type ProbeActivityRow,
  type ProbeCount,
  type RollupDimension,
  type RollupQuery,
  type RollupRow,
} from './store.js';

const DIMENSION_COLUMN: Readonly<Record<RollupDimension, string>> = {
  domain: 'domain',
  asn: 'asn',
  cc: 'cc',
  category_code: 'category_code',
  verdict: 'verdict',
  blocking_type: 'blocking_type',
  source: 'source',
};

interface Clause {
  sql: string[];
  params: (string | number)[];
}

function inList(clause: Clause, column: string, values: readonly (string | number)[] | undefined): void {
  if (values === undefined) return;
  if (values.length === 0) {
    clause.sql.push('0');
    return;
  }
  clause.sql.push(`${column} IN (${values.map(() => '?').join(', ')})`);
  clause.params.push(...values);
}

function checkRange(since: number, until: number): void {
  if (!Number.isSafeInteger(since) || !Number.isSafeInteger(until) || until <= since) {
    throw new InvalidArgumentError(`time range: expected integer milliseconds with since < until, got [${since}, ${until})`);
  }
}

/**
 * Bucket range of a query at a stored grain: a bucket is included when it
 * starts in [since rounded down to the grain, until).
 */
function bucketRange(since: number, until: number, grainMs: number): [number, number] {
  return [Math.floor(since / grainMs) * grainMs, until];
}

/** The WHERE clause of episode inputs over a rollup table (columns prefixed with `prefix`). */
function episodeClause(query: Omit<EpisodeInputQuery, 'domains' | 'asns'> & { readonly domains?: readonly string[] | undefined; readonly asns?: readonly number[] | undefined }, from: number, to: number, prefix = ''): Clause {
  const clause: Clause = { sql: [`${prefix}bucket_ms >= ?`, `${prefix}bucket_ms < ?`], params: [from, to] };
  inList(clause, `${prefix}domain`, query.domains);
  inList(clause, `${prefix}asn`, query.asns);
  inList(clause, `${prefix}cc`, query.ccs);
  inList(clause, `${prefix}category_code`, query.categoryCodes);
  inList(clause, `${prefix}source`, query.sources);
  return clause;
}

/**
 * The rollup table serving a query, and its grain. 'total' uses the coarsest
 * table whose buckets the range is aligned to, so a total is exact.
 */
function rollupTable(query: RollupQuery): [string, number] {
  switch (query.grain) {
    case '5m': return ['rollup_5m', FIVE_MINUTES_MS];
    case '1h': return ['rollup_1h', HOUR_MS];
    case '1d': return ['rollup_1d', DAY_MS];
    case 'total':
      if (query.since % DAY_MS === 0 && query.until % DAY_MS === 0) return ['rollup_1d', DAY_MS];
      if (query.since % HOUR_MS === 0 && query.until % HOUR_MS === 0) return ['rollup_1h', HOUR_MS];
      return ['rollup_5m', FIVE_MINUTES_MS];
  }
}

/** Aggregated reads: rollups, episode inputs, probe activity, probe counts. */
export class AnalyticsReader {
  readonly #db: Database;
  readonly #statements = new Map<string, Statement>();
  readonly #probeCounts: Statement<[number], { asn: number; cc: string; network_name: string; probes: number; active: number }>;

  constructor(db: Database) {
    this.#db = db;
    this.#probeCounts = db.prepare(`SELECT last_asn AS asn, last_cc AS cc, MAX(last_network_name) AS network_name,
      COUNT(*) AS probes, SUM(last_seen_ms >= ?) AS active
      FROM probes WHERE kind = 'steppe' GROUP BY last_asn, last_cc ORDER BY probes DESC, asn`);
  }

  #all(sql: string, params: readonly (string | number)[]): unknown[] {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size > 256) this.#statements.clear();
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement.all(...params);
  }

  #rawAll(sql: string, params: readonly (string | number)[]): unknown[] {
    const key = `raw:${sql}`;
    let statement = this.#statements.get(key);
    if (statement === undefined) {
      if (this.#statements.size > 256) this.#statements.clear();
      statement = this.#db.prepare(sql).raw(true);
      this.#statements.set(key, statement);
    }
    return statement.all(...params);
  }

  rollups(query: RollupQuery): RollupRow[] {
    checkRange(query.since, query.until);
    const [table, storedGrain] = rollupTable(query);
    const [from, to] = bucketRange(query.since, query.until, storedGrain);
    const clause: Clause = { sql: ['bucket_ms >= ?', 'bucket_ms < ?'], params: [from, to] };
    inList(clause, 'domain', query.domains);
    inList(clause, 'asn', query.asns);
    inList(clause, 'cc', query.ccs);
    inList(clause, 'category_code', query.categoryCodes);
    inList(clause, 'verdict', query.verdicts);
    inList(clause, 'source', query.sources);
    const dims = [...new Set(query.groupBy)];
    for (const d of dims) if (!Object.hasOwn(DIMENSION_COLUMN, d)) throw new InvalidArgumentError(`groupBy: unknown dimension ${JSON.stringify(d)}`);
    const bucketSql = query.grain === 'total' ? '0' : 'bucket_ms';
    const dimSql = dims.map((d) => DIMENSION_COLUMN[d]);
    const groupSql = ['b', ...dimSql].join(', ');
    const sql = `SELECT ${bucketSql} AS b${dimSql.map((c) => `, ${c}`).join('')},
      SUM(n) AS n, SUM(anomaly_n) AS anomaly_n, SUM(confirmed_n) AS confirmed_n
      FROM ${table} WHERE ${clause.sql.join(' AND ')}
      GROUP BY ${groupSql} HAVING SUM(n) > 0 ORDER BY ${groupSql}`;
    // Arrays, not row objects: a 30-day hourly timeline reads ~10k rows.
    const rows = this.#rawAll(sql, clause.params) as (string | number)[][];
    return rows.map((r) => {
      const out: { -readonly [K in keyof RollupRow]: RollupRow[K] } = {
        bucketMs: query.grain === 'total' ? query.since : Number(r[0]),
        count: Number(r[dims.length + 1]),
        anomalyCount: Number(r[dims.length + 2]),
        confirmedCount: Number(r[dims.length + 3]),
      };
      dims.forEach((d, i) => {
        const v = r[i + 1];
        if (d === 'asn') out.asn = Number(v);
        else if (d === 'domain') out.domain = String(v);
        else if (d === 'cc') out.cc = String(v);
        else if (d === 'category_code') out.categoryCode = String(v);
        else if (d === 'verdict') out.verdict = String(v);
        else if (d === 'blocking_type') out.blockingType = String(v);
        else out.source = String(v) as MeasurementSource;
      });
      return out;
    });
  }

  episodeInputs(query: EpisodeInputQuery): EpisodeBucket[] {
    checkRange(query.since, query.until);
    const grainMs = query.grain === '5m' ? FIVE_MINUTES_MS : HOUR_MS;
    const [from, to] = bucketRange(query.since, query.until, grainMs);
    const table = query.grain === '5m' ? 'rollup_5m' : 'rollup_1h';
    const clause: Clause = { sql: ['bucket_ms >= ?', 'bucket_ms < ?'], params: [from, to] };
    inList(clause, 'domain', query.domains);
    inList(clause, 'asn', query.asns);
    inList(clause, 'cc', query.ccs);
    inList(clause, 'category_code', query.categoryCodes);
    inList(clause, 'source', query.sources);
    // One scan in primary-key order (domain, asn, bucket_ms, ...): rows of a
    // bucket are consecutive, so they fold without a sort or a map; arrays
    // instead of row objects halve the cost of reading ~10k rows.
    const rows = this.#rawAll(`SELECT domain, asn, bucket_ms, blocking_type, n, anomaly_n, confirmed_n, verdict
      FROM ${table} WHERE ${clause.sql.join(' AND ')} ORDER BY domain, asn, bucket_ms`, clause.params) as [string, number, number, string, number, number, number, string][];
    interface Acc { domain: string; asn: number; bucketMs: number; count: number; anomalyCount: number; confirmedCount: number; blockingTypes: Record<string, number>; anomalyProbes: number[] }
    const buckets: Acc[] = [];
    const anomalous = new Map<string, Acc>();
    let acc: Acc | undefined;
    for (const [domain, asn, bucketMs, blockingType, n, a, c, verdict] of rows) {
      if (acc === undefined || acc.bucketMs !== bucketMs || acc.asn !== asn || acc.domain !== domain) {
        acc = { domain, asn, bucketMs, count: 0, anomalyCount: 0, confirmedCount: 0, blockingTypes: {}, anomalyProbes: [] };
        buckets.push(acc);
      }
      // Undetermined measurements (verdict '': no control, e.g. inside a
      // shutdown) say nothing about blocking: they must not make a bucket
      // clear, nor blocked (a failed connectivity check is flagged anomalous
      // without a verdict: that is the collector unreachable, not a site blocked).
      if (verdict === '') continue;
      acc.count += n;
      acc.anomalyCount += a;
      acc.confirmedCount += c;
      if (a > 0) {
        acc.blockingTypes[blockingType] = (acc.blockingTypes[blockingType] ?? 0) + a;
        anomalous.set(`${domain}\u0000${asn}\u0000${bucketMs}`, acc);
      }
    }
    if (anomalous.size === 0) return buckets;
    const probeClause: Clause = { sql: ['bucket_ms >= ?', 'bucket_ms < ?', 'n > 0'], params: [from, to] };
    inList(probeClause, 'domain', query.domains);
    inList(probeClause, 'asn', query.asns);
    inList(probeClause, 'source', query.sources);
    const bucketSql = query.grain === '5m' ? 'bucket_ms' : `(bucket_ms / ${HOUR_MS}) * ${HOUR_MS}`;
    const probes = this.#rawAll(`SELECT domain, asn, ${bucketSql} AS b, probe_ref FROM anomaly_probes
      WHERE ${probeClause.sql.join(' AND ')}`, probeClause.params) as [string, number, number, number][];
    for (const [domain, asn, b, probe] of probes) {
      const list = anomalous.get(`${domain}\u0000${asn}\u0000${b}`)?.anomalyProbes;
      if (list !== undefined && !list.includes(probe)) list.push(probe);
    }
    return buckets;
  }

  blockedBuckets(query: BlockedBucketQuery): EpisodeBucket[] {
    checkRange(query.since, query.until);
    if (!(query.minAnomalyShare >= 0 && query.minAnomalyShare <= 1)) throw new InvalidArgumentError(`minAnomalyShare: expected a number from 0 to 1, got ${query.minAnomalyShare}`);
    const grainMs = query.grain === '5m' ? FIVE_MINUTES_MS : HOUR_MS;
    const [from, to] = bucketRange(query.since, query.until, grainMs);
    const table = query.grain === '5m' ? 'rollup_5m' : 'rollup_1h';
    const clause = episodeClause(query, from, to);
    // Folded and filtered inside SQLite: a 30-day hourly range of one domain
    // is ~10k rollup rows but a few dozen blocked buckets, and handing rows
    // to JavaScript is what costs (EXPLAIN: one primary-key range scan, the
    // GROUP BY follows the key). The share is compared as a REAL division,
    // as episodes.ts does in JavaScript.
    // Counts of determined measurements only (see episodeInputs).
    const rows = this.#rawAll(`SELECT domain, asn, bucket_ms, SUM(CASE WHEN verdict <> '' THEN n ELSE 0 END) AS dn,
        SUM(CASE WHEN verdict <> '' THEN anomaly_n ELSE 0 END) AS an, SUM(CASE WHEN verdict <> '' THEN confirmed_n ELSE 0 END),
        json_group_array(json_array(blocking_type, anomaly_n)) FILTER (WHERE anomaly_n > 0 AND verdict <> '')
      FROM ${table} WHERE ${clause.sql.join(' AND ')}
      GROUP BY domain, asn, bucket_ms HAVING dn > 0 AND CAST(an AS REAL) / dn >= ? ORDER BY domain, asn, bucket_ms`, [...clause.params, query.minAnomalyShare]) as [string, number, number, number, number, number, string | null][];
    return rows.map(([domain, asn, bucketMs, count, anomalyCount, confirmedCount, types]) => {
      const blockingTypes: Record<string, number> = {};
      for (const [type, n] of JSON.parse(types ?? '[]') as [string, number][]) blockingTypes[type] = (blockingTypes[type] ?? 0) + n;
      return { domain, asn, bucketMs, count, anomalyCount, confirmedCount, blockingTypes, anomalyProbes: [] };
    });
  }

  episodeInputsIn(query: EpisodeInputQuery, ranges: readonly EpisodeRange[]): EpisodeBucket[] {
    checkRange(query.since, query.until);
    if (ranges.length === 0) return [];
    const grainMs = query.grain === '5m' ? FIVE_MINUTES_MS : HOUR_MS;
    const [from, to] = bucketRange(query.since, query.until, grainMs);
    const table = query.grain === '5m' ? 'rollup_5m' : 'rollup_1h';
    const clause = episodeClause({ ...query, domains: undefined, asns: undefined }, from, to, 'x.');
    // The ranges drive the join (CROSS JOIN keeps json_each outside): one
    // primary-key range search per range.
    const json = JSON.stringify(ranges.map((r) => [r.domain, r.asn, r.since, r.until]));
    const rows = this.#rawAll(`SELECT x.domain, x.asn, x.bucket_ms, SUM(CASE WHEN x.verdict <> '' THEN x.n ELSE 0 END),
        SUM(CASE WHEN x.verdict <> '' THEN x.anomaly_n ELSE 0 END), SUM(CASE WHEN x.verdict <> '' THEN x.confirmed_n ELSE 0 END),
        json_group_array(json_array(x.blocking_type, x.anomaly_n)) FILTER (WHERE x.anomaly_n > 0 AND x.verdict <> '')
      FROM json_each(?) r CROSS JOIN ${table} x ON x.domain = r.value ->> 0 AND x.asn = r.value ->> 1 AND x.bucket_ms >= r.value ->> 2 AND x.bucket_ms < r.value ->> 3
      WHERE ${clause.sql.join(' AND ')}
      GROUP BY x.domain, x.asn, x.bucket_ms ORDER BY x.domain, x.asn, x.bucket_ms`, [json, ...clause.params]) as [string, number, number, number, number, number, string | null][];
    return rows.map(([domain, asn, bucketMs, count, anomalyCount, confirmedCount, types]) => {
      const blockingTypes: Record<string, number> = {};
      for (const [type, n] of JSON.parse(types ?? '[]') as [string, number][]) blockingTypes[type] = (blockingTypes[type] ?? 0) + n;
      return { domain, asn, bucketMs, count, anomalyCount, confirmedCount, blockingTypes, anomalyProbes: [] };
    });
  }

  anomalyProbeCount(query: AnomalyProbeQuery): number {
    if (query.bucketStarts.length === 0) return 0;
    const grainMs = query.grain === '5m' ? FIVE_MINUTES_MS : HOUR_MS;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const b of query.bucketStarts) {
      if (!Number.isSafeInteger(b)) throw new InvalidArgumentError(`bucketStarts: expected integer milliseconds, got ${b}`);
      lo = Math.min(lo, b);
      hi = Math.max(hi, b);
    }
    const clause: Clause = { sql: ['domain = ?', 'asn = ?', 'bucket_ms >= ?', 'bucket_ms < ?', 'n > 0'], params: [query.domain, query.asn, lo, hi + grainMs] };
    inList(clause, 'source', query.sources);
    // anomaly_probes is kept per 5 minutes; an hourly bucket is its twelve.
    const bucketSql = query.grain === '5m' ? 'bucket_ms' : `(bucket_ms / ${HOUR_MS}) * ${HOUR_MS}`;
    const row = this.#rawAll(`SELECT COUNT(DISTINCT probe_ref) FROM anomaly_probes
      WHERE ${clause.sql.join(' AND ')} AND ${bucketSql} IN (SELECT value FROM json_each(?))`, [...clause.params, JSON.stringify(query.bucketStarts)])[0] as [number] | undefined;
    return row?.[0] ?? 0;
  }

  probeActivity(query: ProbeActivityQuery): ProbeActivityRow[] {
    checkRange(query.since, query.until);
    const grainMs = query.grain === '5m' ? FIVE_MINUTES_MS : HOUR_MS;
    const [from, to] = bucketRange(query.since, query.until, grainMs);
    const clause: Clause = { sql: ['bucket_ms >= ?', 'bucket_ms < ?'], params: [from, to] };
    inList(clause, 'asn', query.asns);
    inList(clause, 'source', query.sources);
    const bucketSql = query.grain === '5m' ? 'bucket_ms' : `(bucket_ms / ${HOUR_MS}) * ${HOUR_MS}`;
    const rows = this.#all(`SELECT asn, ${bucketSql} AS b, probe_ref, SUM(n) AS n, SUM(late_n) AS late_n, SUM(late_failed_n) AS late_failed_n,
        SUM(reached_n) AS reached_n, SUM(check_n) AS check_n, SUM(check_failed_n) AS check_failed_n
      FROM probe_activity WHERE ${clause.sql.join(' AND ')}
      GROUP BY asn, b, probe_ref HAVING SUM(n) > 0 ORDER BY asn, b, probe_ref`, clause.params) as {
      asn: number; b: number; probe_ref: number; n: number; late_n: number; late_failed_n: number; reached_n: number; check_n: number; check_failed_n: number;
    }[];
    return rows.map((r) => ({
      asn: r.asn, bucketMs: r.b, probe: r.probe_ref, count: r.n, lateCount: r.late_n, lateFailedCount: r.late_failed_n,
      reachedCount: r.reached_n, checkCount: r.check_n, checkFailedCount: r.check_failed_n,
    }));
  }

  outageSpans(query: Omit<ProbeActivityQuery, 'grain'>): OutageSpan[] {
    checkRange(query.since, query.until);
    const [from, to] = bucketRange(query.since, query.until, FIVE_MINUTES_MS);
    // The range and the predicate match the partial index probe_activity_outage.
    const clause: Clause = { sql: ['bucket_ms >= ?', 'bucket_ms < ?', '(late_failed_n > 0 OR check_failed_n > 0)'], params: [from, to] };
    inList(clause, 'asn', query.asns);
    inList(clause, 'source', query.sources);
    const rows = this.#all(`SELECT asn, MIN(bucket_ms) AS first, MAX(bucket_ms) AS last FROM probe_activity WHERE ${clause.sql.join(' AND ')} GROUP BY asn ORDER BY asn`, clause.params) as { asn: number; first: number; last: number }[];
    return rows.map((r) => ({ asn: r.asn, firstBucketMs: r.first, lastBucketMs: r.last }));
  }

  probesPerAsn(query: Omit<ProbeActivityQuery, 'grain'>): AsnProbeCount[] {
    checkRange(query.since, query.until);
    const [from, to] = bucketRange(query.since, query.until, FIVE_MINUTES_MS);
    const clause: Clause = { sql: ['bucket_ms >= ?', 'bucket_ms < ?', 'n > 0'], params: [from, to] };
    inList(clause, 'asn', query.asns);
    inList(clause, 'source', query.sources);
    const rows = this.#all(`SELECT asn, COUNT(DISTINCT probe_ref) AS probes FROM probe_activity WHERE ${clause.sql.join(' AND ')} GROUP BY asn ORDER BY asn`, clause.params) as { asn: number; probes: number }[];
    return rows.map((r) => ({ asn: r.asn, probes: r.probes }));
  }

  probeCounts(activeSinceMs: number): ProbeCount[] {
    return this.#probeCounts.all(activeSinceMs).map((r) => ({ asn: r.asn, cc: r.cc, networkName: r.network_name, probes: r.probes, activeProbes: r.active }));
  }
}
