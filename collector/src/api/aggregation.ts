import { badParameter, type RequestContext } from '../http/router.js';
import type { BucketGrain, RollupDimension, RollupRow, Store } from '../store/store.js';
import { oneOfParam, rangeParams, rollupFilterParams, verdictParam } from './params.js';

/**
 * GET /api/v1/aggregation, shaped like OONI's: counts along `axis_x` and
 * optionally `axis_y`, over the rollups (so the filters are the rollup
 * dimensions: time, domain, ASN, country, category, verdict, source).
 * Answers {"result": [...], "dimension_count": n, "v": 0} or CSV.
 */

export const AXES = ['day', 'hour', 'domain', 'asn', 'country', 'verdict', 'category_code'] as const;
export type Axis = (typeof AXES)[number];

const DIMENSION: Readonly<Partial<Record<Axis, RollupDimension>>> = { domain: 'domain', asn: 'asn', country: 'cc', verdict: 'verdict', category_code: 'category_code' };
/** Output column of each axis (OONI's names where OONI has one). */
const COLUMN: Readonly<Record<Axis, string>> = {
  day: 'measurement_start_day',
  hour: 'measurement_start_hour',
  domain: 'domain',
  asn: 'probe_asn',
  country: 'probe_cc',
  verdict: 'verdict',
  category_code: 'category_code',
};

const MAX_ROWS = 100_000;
const DAY_MS = 86_400_000;

type Cell = string | number;

function axisValue(axis: Axis, row: RollupRow): Cell {
  switch (axis) {
    case 'day': return new Date(row.bucketMs).toISOString().slice(0, 10);
    case 'hour': return new Date(row.bucketMs).toISOString().slice(0, 13) + ':00:00Z';
    case 'domain': return row.domain ?? '';
    case 'asn': return row.asn ?? 0;
    case 'country': return row.cc ?? '';
    case 'verdict': return row.verdict ?? '';
    case 'category_code': return row.categoryCode ?? '';
  }
}

function csvCell(v: Cell): string {
  // A leading = + - @ would make a spreadsheet evaluate a probe-supplied text.
  const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Answer an aggregation request. */
export async function aggregation(store: Store, ctx: RequestContext, nowMs: number): Promise<void> {
  const url = ctx.url;
  const axisX = oneOfParam(url, 'axis_x', AXES);
  const axisY = oneOfParam(url, 'axis_y', AXES);
  if (axisY !== undefined && axisX === undefined) throw badParameter('axis_x', 'an axis when axis_y is given', null);
  if (axisX !== undefined && axisX === axisY) throw badParameter('axis_y', 'an axis different from axis_x', axisY ?? null);
  const axes = [axisX, axisY].filter((a): a is Axis => a !== undefined);
  const timeAxes = axes.filter((a) => a === 'day' || a === 'hour');
  if (timeAxes.length > 1) throw badParameter('axis_y', 'at most one time axis (day or hour)', axisY ?? null);
  const format = oneOfParam(url, 'format', ['JSON', 'CSV', 'json', 'csv'] as const)?.toUpperCase() ?? 'JSON';
  const { since, until } = rangeParams(url, { since: nowMs - 30 * DAY_MS, until: nowMs }, 400 * DAY_MS);
  const grain: BucketGrain = timeAxes[0] === 'hour' ? '1h' : timeAxes[0] === 'day' ? '1d' : 'total';
  if (grain === '1h' && (until - since) / 3_600_000 > MAX_ROWS) throw badParameter('since', 'a shorter range for axis hour', url.searchParams.get('since'));
  const filters = rollupFilterParams(url);
  const verdicts = verdictParam(url);
  const rows = await store.rollups({
    since,
    until,
    grain,
    groupBy: axes.map((a) => DIMENSION[a]).filter((d): d is RollupDimension => d !== undefined),
    ...filters,
    ...(verdicts === undefined ? {} : { verdicts }),
  });
  if (rows.length > MAX_ROWS) throw badParameter(axisY === undefined ? 'axis_x' : 'axis_y', `an aggregation of at most ${MAX_ROWS} rows; narrow the filters`, axisY ?? axisX ?? null);
  const columns = [...axes.map((a) => COLUMN[a]), 'measurement_count', 'anomaly_count', 'confirmed_count', 'ok_count'];
  const result = rows.map((r) => {
    const out: Record<string, Cell> = {};
    for (const a of axes) out[COLUMN[a]] = axisValue(a, r);
    out['measurement_count'] = r.count;
    out['anomaly_count'] = r.anomalyCount;
    out['confirmed_count'] = r.confirmedCount;
    out['ok_count'] = r.count - r.anomalyCount;
    return out;
  });
  const headers = { 'access-control-allow-origin': '*' };
  if (format === 'CSV') {
    const text = [columns.join(','), ...result.map((r) => columns.map((c) => csvCell(r[c] ?? '')).join(','))].join('\r\n') + '\r\n';
    ctx.res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
    ctx.res.end(text);
    return;
  }
  const body = JSON.stringify({ result: axes.length === 0 ? (result[0] ?? { measurement_count: 0, anomaly_count: 0, confirmed_count: 0, ok_count: 0 }) : result, dimension_count: axes.length, v: 0 });
  ctx.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  ctx.res.end(body);
}
