import { type Clock, systemClock } from './clock.js';
import { scrubIpAddresses, scrubValues } from './scrub.js';

/** Log levels, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A field value: only plain data goes into a log line. */
export type LogValue = string | number | boolean | null | undefined | readonly string[] | Readonly<Record<string, number>>;

/** Fields holding free text from errors: every IP address in them is scrubbed. */
const FREE_TEXT_FIELDS = new Set(['error', 'message', 'reason', 'detail', 'msg']);

/** Options of {@link JsonLog}. */
export interface JsonLogOptions {
  readonly clock?: Clock;
  /** Lines below this level are not written. Default "info". */
  readonly level?: LogLevel;
  /** Values to scrub from every string (the probe's own address forms, PublicAddressSet.scrubForms). */
  readonly scrubForms?: () => readonly string[];
  /**
   * A sentence for people reading the log, in their language, written as the
   * `msg` field (docs/cli.md); undefined: no `msg`. Event and field names
   * stay as they are: machines read those.
   */
  readonly describe?: (event: string, fields: Readonly<Record<string, LogValue>>) => string | undefined;
}

/**
 * A daemon's structured log: one JSON object per line on stdout —
 * `{"time": ISO-8601, "level", "event", ...fields}` — for journald, Docker
 * and log shippers. Never the volunteer's IP: the probe's known addresses
 * are scrubbed from every string, and free-text fields (error messages) have
 * every IP address scrubbed, whoever's it is.
 */
export class JsonLog {
  readonly #out: NodeJS.WritableStream;
  readonly #clock: Clock;
  readonly #min: number;
  readonly #forms: () => readonly string[];
  readonly #describe: JsonLogOptions['describe'];

  constructor(out: NodeJS.WritableStream, options: JsonLogOptions = {}) {
    this.#out = out;
    this.#clock = options.clock ?? systemClock;
    this.#min = LOG_LEVELS.indexOf(options.level ?? 'info');
    this.#forms = options.scrubForms ?? (() => []);
    this.#describe = options.describe;
  }

  debug(event: string, fields: Readonly<Record<string, LogValue>> = {}): void {
    this.log('debug', event, fields);
  }

  info(event: string, fields: Readonly<Record<string, LogValue>> = {}): void {
    this.log('info', event, fields);
  }

  warn(event: string, fields: Readonly<Record<string, LogValue>> = {}): void {
    this.log('warn', event, fields);
  }

  error(event: string, fields: Readonly<Record<string, LogValue>> = {}): void {
    this.log('error', event, fields);
  }

  /** Write one line. */
  log(level: LogLevel, event: string, fields: Readonly<Record<string, LogValue>> = {}): void {
    if (LOG_LEVELS.indexOf(level) < this.#min) return;
    const forms = this.#forms();
    const clean = (key: string, text: string): string => {
      const scrubbed = scrubValues(text, forms);
      return FREE_TEXT_FIELDS.has(key) ? scrubIpAddresses(scrubbed) : scrubbed;
    };
    const line: Record<string, unknown> = { time: new Date(this.#clock.now()).toISOString(), level, event };
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined || key === 'time' || key === 'level' || key === 'event') continue;
      if (typeof value === 'string') line[key] = clean(key, value);
      else if (Array.isArray(value)) line[key] = value.map((v: string) => clean(key, v));
      else line[key] = value;
    }
    const msg = this.#describe?.(event, fields);
    if (msg !== undefined) line['msg'] = clean('msg', msg);
    this.#out.write(`${JSON.stringify(line)}\n`);
  }
}

/** A short, one-line description of an error for a log field. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${typeof code === 'string' ? `${code}: ` : ''}${err.message}`.replace(/\s+/g, ' ').slice(0, 500);
  }
  return String(err).slice(0, 500);
}
