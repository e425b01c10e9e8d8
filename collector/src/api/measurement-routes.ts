import { InvalidArgumentError, isIdString, parseId } from '@steppe/shared';
import { HttpError, badParameter, sendJson, type RequestContext } from '../http/router.js';
import type { MeasurementFilter, Store } from '../store/store.js';
import { recordToJson, storedToJson } from './measurement-views.js';
import {
  asnParam,
  booleanParam,
  categoryParam,
  ccParam,
  domainParam,
  failureParam,
  integerParam,
  listParam,
  oneOfParam,
  oneParam,
  sourceParam,
  timeParam,
  verdictParam,
} from './params.js';

/** The measurement filter of a query string (shared by listings and exports). */
export function measurementFilterFromQuery(url: URL): MeasurementFilter {
  const since = timeParam(url, 'since');
  const until = timeParam(url, 'until');
  if (since !== undefined && until !== undefined && until <= since) throw badParameter('until', 'a time after since', url.searchParams.get('until'));
  const probeAsns = asnParam(url);
  const probeCcs = ccParam(url);
  const domains = domainParam(url);
  const inputs = listParam(url, 'input');
  const categoryCodes = categoryParam(url);
  const testNames = listParam(url, 'test_name');
  const verdicts = verdictParam(url);
  const anomaly = booleanParam(url, 'anomaly');
  const confirmed = booleanParam(url, 'confirmed');
  const sources = sourceParam(url);
  const { failed, failures } = failureParam(url);
  return {
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    ...(probeAsns === undefined ? {} : { probeAsns }),
    ...(probeCcs === undefined ? {} : { probeCcs }),
    ...(domains === undefined ? {} : { domains }),
    ...(inputs === undefined ? {} : { inputs }),
    ...(categoryCodes === undefined ? {} : { categoryCodes }),
    ...(testNames === undefined ? {} : { testNames }),
    ...(verdicts === undefined ? {} : { verdicts }),
    ...(anomaly === undefined ? {} : { anomaly }),
    ...(confirmed === undefined ? {} : { confirmed }),
    ...(sources === undefined ? {} : { sources }),
    ...(failed === undefined ? {} : { failed }),
    ...(failures === undefined ? {} : { failures }),
  };
}

/** GET /api/v1/measurements */
export async function listMeasurements(store: Store, ctx: RequestContext): Promise<void> {
  const filter = measurementFilterFromQuery(ctx.url);
  const limit = integerParam(ctx.url, 'limit', 1, 1000) ?? 100;
  const order = oneOfParam(ctx.url, 'order', ['asc', 'desc'] as const) ?? 'desc';
  const cursor = oneParam(ctx.url, 'cursor');
  let page;
  try {
    page = await store.queryMeasurements(filter, { limit, order, ...(cursor === undefined ? {} : { cursor }) });
  } catch (err) {
    if (err instanceof InvalidArgumentError && cursor !== undefined && err.message.startsWith('cursor')) throw badParameter('cursor', 'a next_cursor from a previous page with the same order', cursor);
    throw err;
  }
  sendJson(ctx.res, 200, { results: page.results.map(recordToJson), next_cursor: page.nextCursor }, { 'access-control-allow-origin': '*' });
}

/** GET /api/v1/measurements/:id */
export async function getMeasurement(store: Store, ctx: RequestContext): Promise<void> {
  const text = ctx.params['id'] ?? '';
  if (!isIdString(text)) throw badParameter('id', 'a measurement id (8-4-4-4-12 hex digits)', text);
  const stored = await store.getMeasurement(parseId(text));
  if (stored === undefined) throw new HttpError(404, 'STEPPE_ERR_NOT_FOUND', `no measurement ${text.toLowerCase()}`);
  sendJson(ctx.res, 200, storedToJson(stored), { 'access-control-allow-origin': '*' });
}
