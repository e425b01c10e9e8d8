import { readFileSync } from 'node:fs';
import { ConfigError, isLanguage, type Language } from '@steppe/shared';

/**
 * Curated events in the reader's language. The events file
 * (collector/data/events.json, or `serve --events FILE`) may carry, beside
 * its "events", a "translations" object: for each language, the event's
 * name (as written in "events") → its translated name and description:
 *
 *   "translations": { "ru": { "Cyber Security Nur-Sultan 2020": { "name": "…", "description": "…" } } }
 *
 * The events themselves (store, API) stay as written; the dashboard and the
 * SVG show the translation where there is one (docs/translations.md).
 */

/** A translated event. */
export interface EventText {
  readonly name: string;
  readonly description: string;
}

/** Per language: event key (eventKey) → its text. */
export type EventTexts = ReadonlyMap<Language, ReadonlyMap<string, EventText>>;

/** The key of an event: its name as written and its start instant. */
export function eventKey(name: string, startMs: number): string {
  return `${name}\u0000${new Date(startMs).toISOString()}`;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(field, `field "${field}": expected an object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) throw new ConfigError(field, `field "${field}": expected a string of at most ${max} characters`);
  return value;
}

/**
 * Read the translations of an events file (none: an empty map). A
 * translation of an event the file does not list, or a language Steppe has
 * no catalog for, is a ConfigError naming it: a renamed event must not lose
 * its translation silently.
 */
export function loadEventTexts(path: string): EventTexts {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError('', `${path}: cannot read events file (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const file = object(json, '');
  const out = new Map<Language, Map<string, EventText>>();
  if (file['translations'] === undefined) return out;
  const starts = new Map<string, number>();
  for (const e of Array.isArray(file['events']) ? file['events'] : []) {
    const { name, start } = (e ?? {}) as { name?: unknown; start?: unknown };
    if (typeof name === 'string' && typeof start === 'string') starts.set(name, Date.parse(start));
  }
  try {
    for (const [language, events] of Object.entries(object(file['translations'], 'translations'))) {
      const field = `translations.${language}`;
      if (!isLanguage(language)) throw new ConfigError(field, `field "${field}": no such language (en, ru or kk)`);
      const texts = new Map<string, EventText>();
      for (const [name, value] of Object.entries(object(events, field))) {
        const at = `${field}.${name}`;
        const start = starts.get(name);
        if (start === undefined) throw new ConfigError(at, `field "${at}": no event of that name in "events"`);
        const t = object(value, at);
        texts.set(eventKey(name, start), { name: text(t['name'], `${at}.name`, 200), description: text(t['description'] ?? '', `${at}.description`, 10_000) });
      }
      out.set(language, texts);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.field, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
  return out;
}
