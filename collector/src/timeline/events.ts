import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, InvalidArgumentError, check } from '@steppe/shared';
import type { EventInput, StoredEvent } from '../store/store.js';
import type { Episode } from './episode-model.js';

/**
 * Curated events: validation of their JSON form (the seed file and
 * `POST /api/v1/events` use the same one), loading the seed file, and
 * relating events to the episodes that overlap them.
 *
 * JSON form: {"name", "start", "end" (or null), "time_zone", "description",
 * "source_url" (or null)}. `start` and `end` are ISO 8601 date-times with an
 * explicit offset or Z (e.g. "2020-12-06T00:00:00+06:00"): a local time
 * alone is ambiguous around offset changes (Almaty moved from UTC+6 to UTC+5
 * in 2024), so it is refused. `time_zone` is an IANA name, used to show times
 * locally.
 */

/** True for an IANA time zone name this runtime knows. */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function instant(value: unknown, field: string): number {
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ConfigError(field, `field "${field}": expected an ISO 8601 date-time with an offset, e.g. 2020-12-06T00:00:00+06:00, got ${JSON.stringify(value)}`);
  }
  return Date.parse(value);
}

const eventSchema = check.object({
  name: check.string({ min: 1, max: 200 }),
  start: (v: unknown, f: string) => instant(v, f),
  end: (v: unknown, f: string) => (v === null || v === undefined ? null : instant(v, f)),
  time_zone: (v: unknown, f: string) => {
    if (typeof v !== 'string' || !isTimeZone(v)) throw new ConfigError(f, `field "${f}": expected an IANA time zone such as Asia/Almaty, got ${JSON.stringify(v)}`);
    return v;
  },
  description: check.optional(check.string({ max: 10_000 }), ''),
  source_url: (v: unknown, f: string) => (v === null || v === undefined ? null : check.url({ protocols: ['https:', 'http:'] })(v, f)),
});

/** Validate one event in its JSON form; ConfigError names the bad field. */
export function parseEvent(value: unknown, field = ''): EventInput {
  const e = eventSchema(value, field);
  if (e.end !== null && e.end <= e.start) {
    const path = field === '' ? 'end' : `${field}.end`;
    throw new ConfigError(path, `field "${path}": must be after start`);
  }
  return { name: e.name, startMs: e.start, endMs: e.end, timeZone: e.time_zone, description: e.description, sourceUrl: e.source_url };
}

/** Read the seed file: {"events": [...]}. */
export function loadEventsFile(path: string): EventInput[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('', `${path}: cannot read events file (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('', `${path}: not valid JSON`, { cause });
  }
  if (json === null || typeof json !== 'object' || !Array.isArray((json as { events?: unknown }).events)) {
    throw new ConfigError('events', `${path}: expected {"events": [...]}`);
  }
  try {
    return ((json as { events: unknown[] }).events).map((e, i) => parseEvent(e, `events[${i}]`));
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.field, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The seed file shipped with the collector (collector/data/events.json). */
export const DEFAULT_EVENTS_FILE = new URL('../../data/events.json', import.meta.url);

/** The JSON form of an event, as the API answers. */
export function eventToJson(e: StoredEvent): Record<string, string | number | null> {
  return {
    id: e.id,
    name: e.name,
    start: new Date(e.startMs).toISOString(),
    end: e.endMs === null ? null : new Date(e.endMs).toISOString(),
    start_local: localTime(e.startMs, e.timeZone),
    end_local: e.endMs === null ? null : localTime(e.endMs, e.timeZone),
    time_zone: e.timeZone,
    description: e.description,
    source_url: e.sourceUrl,
    origin: e.origin,
    created: new Date(e.createdMs).toISOString(),
  };
}

/** "2020-12-06 10:02 (UTC+06:00)"-style local time in an IANA zone. */
export function localTime(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' }).formatToParts(new Date(ms));
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  const offset = get('timeZoneName').replace('GMT', 'UTC');
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} (${offset === 'UTC' ? 'UTC+00:00' : offset})`;
}

/** The range an event covers: an open end runs to `nowMs`. */
export function eventRange(e: EventInput, nowMs: number): [number, number] {
  return [e.startMs, e.endMs ?? Math.max(nowMs, e.startMs + 1)];
}

/** Episodes overlapping an event's range. */
export function overlappingEpisodes(e: EventInput, episodes: readonly Episode[], nowMs: number): Episode[] {
  const [start, end] = eventRange(e, nowMs);
  return episodes.filter((ep) => ep.onsetMs < end && ep.endMs > start);
}

/** Throw InvalidArgumentError for an event id that is not a positive integer. */
export function parseEventId(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new InvalidArgumentError(`event id: expected a positive integer, got ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text);
}

/**
 * Seed the store with the events of a file (default: the shipped
 * collector/data/events.json); events already present (same name and start)
 * are left as they are. Returns how many were added.
 */
export async function seedEventsFromFile(store: { seedEvents(events: readonly EventInput[], nowMs: number): Promise<number> }, nowMs: number, path: string | URL = DEFAULT_EVENTS_FILE): Promise<number> {
  return store.seedEvents(loadEventsFile(path instanceof URL ? fileURLToPath(path) : path), nowMs);
}
