import { ConfigError, type Clock } from '@steppe/shared';
import { HttpError, badParameter, readJson, sendJson, type RequestContext } from '../http/router.js';
import type { Store } from '../store/store.js';
import { type Episode, type EpisodeKind } from '../timeline/episode-model.js';
import { detectEpisodes } from '../timeline/episodes.js';
import { eventRange, eventToJson, isTimeZone, localTime, parseEvent, parseEventId } from '../timeline/events.js';
import { TIMELINE_GRAINS, TIMELINE_SPLITS, type Timeline, type TimelineSplit, buildTimeline } from '../timeline/timeline.js';
import { requireAdmin } from './auth.js';
import { oneOfParam, oneParam, rangeParams, rollupFilterParams } from './params.js';

const DAY_MS = 86_400_000;
const CORS = { 'access-control-allow-origin': '*' };

/**
 * The timeline a request's parameters ask for (`grain`, `split`, `since`,
 * `until` and the rollup filters), shared by the JSON route and the SVG chart
 * so both answer the same query identically.
 */
export async function timelineFromUrl(store: Pick<Store, 'rollups'>, url: URL, now: number, defaultSplit: TimelineSplit): Promise<Timeline> {
  const grain = oneOfParam(url, 'grain', TIMELINE_GRAINS) ?? '1h';
  const split = oneOfParam(url, 'split', TIMELINE_SPLITS) ?? defaultSplit;
  const { since, until } = rangeParams(url, { since: now - 7 * DAY_MS, until: now }, 400 * DAY_MS);
  const filters = rollupFilterParams(url);
  try {
    return await buildTimeline(store, { since, until, grain, split, ...filters });
  } catch (err) {
    if (err instanceof Error && /buckets/.test(err.message)) throw badParameter('grain', 'a coarser grain or a shorter range', grain);
    throw err;
  }
}

/** GET /api/v1/timeline */
export async function timelineRoute(store: Store, clock: Clock, ctx: RequestContext): Promise<void> {
  const url = ctx.url;
  const now = clock.now();
  const timeline = await timelineFromUrl(store, url, now, 'none');
  sendJson(ctx.res, 200, {
    since: new Date(timeline.since).toISOString(),
    until: new Date(timeline.until).toISOString(),
    grain: timeline.grain,
    split: timeline.split,
    series: timeline.series.map((s) => ({
      domain: s.domain,
      probe_asn: s.asn,
      buckets: s.buckets.map((b) => ({
        start: new Date(b.startMs).toISOString(),
        end: new Date(b.endMs).toISOString(),
        state: b.state,
        measurements: b.measurements,
        anomalies: b.anomalies,
        confirmed: b.confirmed,
        anomaly_share: b.anomalyShare,
        confirmed_share: b.confirmedShare,
        verdicts: b.verdicts,
      })),
    })),
  }, CORS);
}

/** The JSON form of an episode; local times when a zone is given. */
export function episodeToJson(e: Episode, timeZone?: string): Record<string, unknown> {
  return {
    id: e.id,
    kind: e.kind,
    domain: e.domain,
    probe_asn: e.asn,
    onset: new Date(e.onsetMs).toISOString(),
    end: new Date(e.endMs).toISOString(),
    ...(timeZone === undefined ? {} : { onset_local: localTime(e.onsetMs, timeZone), end_local: localTime(e.endMs, timeZone), time_zone: timeZone }),
    ongoing: e.ongoing,
    grain: e.grain,
    blocking_types: e.blockingTypes,
    probes: e.probes,
    measurements: e.measurements,
    anomalies: e.anomalies,
    confirmed: e.confirmed,
    gap_buckets: e.gapBuckets,
    single_probe: e.singleProbe,
    confidence: e.confidence,
    evidence: e.evidence,
    evidence_url: `/api/v1/measurements?${new URLSearchParams({
      since: new Date(e.onsetMs).toISOString(),
      until: new Date(e.endMs).toISOString(),
      probe_asn: String(e.asn),
      ...(e.domain === null ? { failure: 'true' } : { domain: e.domain, anomaly: 'true' }),
    }).toString()}`,
  };
}

function timeZoneParam(url: URL): string | undefined {
  const tz = oneParam(url, 'time_zone');
  if (tz !== undefined && !isTimeZone(tz)) throw badParameter('time_zone', 'an IANA time zone such as Asia/Almaty', tz);
  return tz;
}

/** GET /api/v1/episodes */
export async function episodesRoute(store: Store, clock: Clock, ctx: RequestContext): Promise<void> {
  const url = ctx.url;
  const now = clock.now();
  const grain = oneOfParam(url, 'grain', ['5m', '1h'] as const) ?? '1h';
  const { since, until } = rangeParams(url, { since: now - 7 * DAY_MS, until: now }, grain === '5m' ? 31 * DAY_MS : 400 * DAY_MS);
  const kind = oneOfParam(url, 'kind', ['blocking', 'shutdown'] as const);
  const filters = rollupFilterParams(url);
  const timeZone = timeZoneParam(url);
  const kinds: EpisodeKind[] = kind === undefined ? ['blocking', 'shutdown'] : [kind];
  const episodes = await detectEpisodes(store, {
    since, until, grain, kinds,
    ...filters,
  }, { nowMs: now });
  sendJson(ctx.res, 200, { results: episodes.map((e) => episodeToJson(e, timeZone)) }, CORS);
}

/** GET /api/v1/events */
export async function listEventsRoute(store: Store, ctx: RequestContext): Promise<void> {
  const url = ctx.url;
  const { since, until } = rangeParams(url, { since: Number.MIN_SAFE_INTEGER, until: Number.MAX_SAFE_INTEGER });
  sendJson(ctx.res, 200, { results: (await store.listEvents({ since, until })).map(eventToJson) }, CORS);
}

/** Longest span of an event searched for overlapping episodes. */
const MAX_EVENT_SPAN_MS = 92 * DAY_MS;

/** GET /api/v1/events/:id: the event and the episodes overlapping it. */
export async function getEventRoute(store: Store, clock: Clock, ctx: RequestContext): Promise<void> {
  const id = eventId(ctx);
  const event = await store.getEvent(id);
  if (event === undefined) throw new HttpError(404, 'STEPPE_ERR_NOT_FOUND', `no event ${id}`);
  const now = clock.now();
  const [start, end] = eventRange(event, now);
  const until = Math.min(end, start + MAX_EVENT_SPAN_MS);
  const grain = oneOfParam(ctx.url, 'grain', ['5m', '1h'] as const) ?? '1h';
  const episodes = (await detectEpisodes(store, { since: start, until, grain }, { nowMs: now }))
    .filter((e) => e.onsetMs < until && e.endMs > start);
  sendJson(ctx.res, 200, {
    ...eventToJson(event),
    episodes: episodes.map((e) => episodeToJson(e, event.timeZone)),
    episodes_searched_until: new Date(until).toISOString(),
  }, CORS);
}

function eventId(ctx: RequestContext): number {
  const text = ctx.params['id'] ?? '';
  try {
    return parseEventId(text);
  } catch {
    throw badParameter('id', 'a positive integer event id', text);
  }
}

async function eventBody(ctx: RequestContext): Promise<ReturnType<typeof parseEvent>> {
  const body = await readJson(ctx.req, 64 * 1024);
  try {
    return parseEvent(body);
  } catch (err) {
    if (err instanceof ConfigError) throw new HttpError(400, 'STEPPE_ERR_INVALID_ARGUMENT', err.message);
    throw err;
  }
}

/** POST /api/v1/events (admin token). */
export async function createEventRoute(store: Store, clock: Clock, adminToken: string | undefined, ctx: RequestContext): Promise<void> {
  requireAdmin(ctx.req, adminToken);
  const input = await eventBody(ctx);
  const event = await store.addEvent(input, clock.now(), 'admin');
  sendJson(ctx.res, 201, eventToJson(event), { location: `/api/v1/events/${event.id}` });
}

/** PUT /api/v1/events/:id (admin token). */
export async function updateEventRoute(store: Store, adminToken: string | undefined, ctx: RequestContext): Promise<void> {
  requireAdmin(ctx.req, adminToken);
  const id = eventId(ctx);
  const input = await eventBody(ctx);
  const event = await store.updateEvent(id, input);
  if (event === undefined) throw new HttpError(404, 'STEPPE_ERR_NOT_FOUND', `no event ${id}`);
  sendJson(ctx.res, 200, eventToJson(event));
}

/** DELETE /api/v1/events/:id (admin token). */
export async function deleteEventRoute(store: Store, adminToken: string | undefined, ctx: RequestContext): Promise<void> {
  requireAdmin(ctx.req, adminToken);
  const id = eventId(ctx);
  if (!(await store.deleteEvent(id))) throw new HttpError(404, 'STEPPE_ERR_NOT_FOUND', `no event ${id}`);
  ctx.res.writeHead(204);
  ctx.res.end();
}
