/**
 * Ticks of a time axis in UTC, and their labels in UTC and in a local IANA
 * zone. Pure functions of their arguments (no clock, no locale of the
 * machine): the same chart renders the same everywhere.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Tick steps, finest first; each is a whole multiple of the UTC epoch grid. */
export const TICK_STEPS_MS: readonly number[] = [
  5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 56 * DAY, 112 * DAY,
];

/** Ticks chosen for an axis. */
export interface TimeTicks {
  readonly stepMs: number;
  /** Instants of the ticks, within [since, until]. */
  readonly ticks: readonly number[];
}

/**
 * The finest step that keeps labels at least `minSpacingPx` apart on an
 * axis `widthPx` wide, and the ticks of that step in [since, until].
 */
export function timeTicks(since: number, until: number, widthPx: number, minSpacingPx = 90): TimeTicks {
  const span = Math.max(1, until - since);
  const maxTicks = Math.max(1, Math.floor(widthPx / minSpacingPx));
  const stepMs = TICK_STEPS_MS.find((s) => span / s <= maxTicks) ?? TICK_STEPS_MS[TICK_STEPS_MS.length - 1] ?? DAY;
  const ticks: number[] = [];
  for (let t = Math.ceil(since / stepMs) * stepMs; t <= until; t += stepMs) ticks.push(t);
  return { stepMs, ticks };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, options: Intl.DateTimeFormatOptions, locale = 'en-GB'): Intl.DateTimeFormat {
  const key = `${locale}\u0000${timeZone}\u0000${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(locale, { timeZone, ...options });
    formatters.set(key, f);
  }
  return f;
}

function parts(ms: number, timeZone: string, locale?: string): Record<string, string> {
  const out: Record<string, string> = {};
  const f = formatter(timeZone, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }, locale);
  for (const p of f.formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
}

/** "04:00" in the zone. */
export function clockTime(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone);
  return `${p['hour'] ?? ''}:${p['minute'] ?? ''}`;
}

/** "06 Dec 2020" in the zone; the month's short name in `locale` (default en-GB: "06 дек. 2020" in ru-RU). */
export function calendarDate(ms: number, timeZone: string, locale?: string): string {
  const p = parts(ms, timeZone, locale);
  return `${p['day'] ?? ''} ${p['month'] ?? ''} ${p['year'] ?? ''}`;
}

/** "06 Dec" in the zone. */
export function dayMonth(ms: number, timeZone: string, locale?: string): string {
  const p = parts(ms, timeZone, locale);
  return `${p['day'] ?? ''} ${p['month'] ?? ''}`;
}

/** "06 Dec 2020 04:00" in the zone. */
export function dateTime(ms: number, timeZone: string, locale?: string): string {
  return `${calendarDate(ms, timeZone, locale)} ${clockTime(ms, timeZone)}`;
}

/** The zone's offset at an instant: "UTC+06:00", "UTC+00:00". */
export function zoneOffset(ms: number, timeZone: string): string {
  const name = formatter(timeZone, { timeZoneName: 'longOffset' }).formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const offset = name.replace('GMT', '');
  return `UTC${offset === '' ? '+00:00' : offset}`;
}

/** Labels of one tick: the UTC time, the UTC date where it changes, the local time. */
export interface TickLabel {
  readonly utc: string;
  /** The UTC date, on the first tick and at UTC midnight (sub-day steps); undefined otherwise. */
  readonly date: string | undefined;
  /** The time in the local zone; undefined when the zone is UTC. */
  readonly local: string | undefined;
}

/** Label a tick of an axis with step `stepMs` (month names in `locale`, default en-GB). */
export function tickLabel(ms: number, stepMs: number, first: boolean, timeZone: string, locale?: string): TickLabel {
  const utcZone = timeZone === 'UTC' || timeZone === 'Etc/UTC';
  if (stepMs >= DAY) {
    return { utc: calendarDate(ms, 'UTC', locale), date: undefined, local: utcZone ? undefined : `${dayMonth(ms, timeZone, locale)} ${clockTime(ms, timeZone)}` };
  }
  const midnight = ms % DAY === 0;
  return {
    utc: clockTime(ms, 'UTC'),
    date: first || midnight ? calendarDate(ms, 'UTC', locale) : undefined,
    local: utcZone ? undefined : clockTime(ms, timeZone),
  };
}
