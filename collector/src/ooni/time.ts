/**
 * OONI writes times as "YYYY-MM-DD HH:MM:SS" in UTC (df-000-base
 * `measurement_start_time`, `test_start_time`) and durations as seconds;
 * Steppe uses Unix milliseconds.
 */

const OONI_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z?$/;

/** Parse an OONI UTC time; undefined when it is not of that form or not a real date. */
export function parseOoniTime(text: string): number | undefined {
  const m = OONI_TIME.exec(text.trim());
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  // Reject rollovers such as 2020-02-31 or 25:00:00.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || d.getUTCHours() !== hour || d.getUTCMinutes() !== minute || d.getUTCSeconds() !== second) {
    return undefined;
  }
  return ms;
}

/** "YYYY-MM-DD HH:MM:SS" (UTC) of Unix milliseconds, truncated to the second. */
export function formatOoniTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** "YYYYMMDDTHHMMSSZ", the time prefix of an OONI report id. */
export function compactOoniTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

/** Seconds (OONI's t0/t/test_runtime) from milliseconds, rounded to the microsecond. */
export function msToSeconds(ms: number): number {
  return Math.round(ms * 1000) / 1_000_000;
}

/** Milliseconds from OONI seconds. */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1_000_000) / 1000;
}
