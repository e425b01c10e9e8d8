import { join } from 'node:path';
import { type Clock, ConfigError, check, InvalidArgumentError, systemClock } from '@steppe/shared';
import { readJsonIfExists, writeJsonAtomic } from '../config/json-file.js';

/** File name of the budget state inside the data directory. */
export const BUDGET_FILE_NAME = 'budget.json';

/** How often (clock time) running totals are persisted between explicit flushes. */
const PERSIST_EVERY_MS = 5_000;

/** The month's usage, as `status` shows it. */
export interface BudgetUsage {
  /** Calendar month (UTC) the figures are for, "YYYY-MM". */
  readonly month: string;
  /** Bytes sent + received by measurements this month. */
  readonly usedBytes: number;
  /** The monthly limit; null when there is none. */
  readonly limitBytes: number | null;
  /** Bytes left this month; null when there is no limit. */
  readonly remainingBytes: number | null;
  /** True once the limit is reached: only the core list runs until the month ends. */
  readonly exhausted: boolean;
  /** When the count starts again at zero (the first instant of next month, UTC). */
  readonly resetsAtMs: number;
}

const stateSchema = check.object({
  month: check.string({ pattern: /^\d{4}-\d{2}$/, describe: 'a month such as "2020-12"' }),
  usedBytes: check.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  updatedAtMs: check.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
});

/** "YYYY-MM" of an instant, in UTC. */
export function monthOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** The first instant (UTC) of the month after the one containing `ms`. */
export function nextMonthStartMs(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * A monthly bandwidth budget: counts the bytes measurements actually moved
 * (the engine's traffic callback, not estimates), persisted in the data
 * directory so restarts don't reset it, and starting again at zero on the
 * first day of each calendar month (UTC). Time comes from the clock, so
 * tests can cross a month boundary.
 */
export class BandwidthBudget {
  readonly #path: string;
  readonly #limit: number | null;
  readonly #clock: Clock;
  #month: string;
  #used: number;
  #lastPersistMs = 0;
  #dirty = false;

  private constructor(path: string, limit: number | null, clock: Clock, month: string, used: number) {
    this.#path = path;
    this.#limit = limit;
    this.#clock = clock;
    this.#month = month;
    this.#used = used;
  }

  /**
   * Open the budget of `dataDir`. An unreadable or malformed state file is a
   * ConfigError naming it (never silently reset: that would let a broken
   * file lift the cap).
   */
  static open(dataDir: string, options: { readonly limitBytes: number | null; readonly clock?: Clock }): BandwidthBudget {
    const clock = options.clock ?? systemClock;
    const path = join(dataDir, BUDGET_FILE_NAME);
    if (options.limitBytes !== null && (!Number.isSafeInteger(options.limitBytes) || options.limitBytes <= 0)) {
      throw new InvalidArgumentError(`BandwidthBudget: limitBytes must be a positive integer or null, got ${options.limitBytes}`);
    }
    let raw: unknown;
    try {
      raw = readJsonIfExists(path);
    } catch (cause) {
      throw new ConfigError('', `${path}: unreadable budget state (${cause instanceof Error ? cause.message : String(cause)}); delete it to start counting from zero`, { cause });
    }
    const now = clock.now();
    if (raw === undefined) return new BandwidthBudget(path, options.limitBytes, clock, monthOf(now), 0);
    let state: ReturnType<typeof stateSchema>;
    try {
      state = stateSchema(raw, '');
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(err.field, `${path}: ${err.message}; delete it to start counting from zero`, { cause: err });
      throw err;
    }
    const budget = new BandwidthBudget(path, options.limitBytes, clock, state.month, state.usedBytes);
    budget.#rollOver(now);
    return budget;
  }

  /** Count bytes moved now. */
  add(bytes: number): void {
    if (!Number.isFinite(bytes) || bytes < 0) throw new InvalidArgumentError(`BandwidthBudget.add: bytes must be >= 0, got ${bytes}`);
    const now = this.#clock.now();
    this.#rollOver(now);
    this.#used += Math.round(bytes);
    this.#dirty = true;
    if (now - this.#lastPersistMs >= PERSIST_EVERY_MS) this.flush();
  }

  /** True when the month's limit is reached. */
  exhausted(): boolean {
    return this.usage().exhausted;
  }

  /** The current month's figures. */
  usage(): BudgetUsage {
    const now = this.#clock.now();
    this.#rollOver(now);
    const limit = this.#limit;
    return {
      month: this.#month,
      usedBytes: this.#used,
      limitBytes: limit,
      remainingBytes: limit === null ? null : Math.max(0, limit - this.#used),
      exhausted: limit !== null && this.#used >= limit,
      resetsAtMs: nextMonthStartMs(now),
    };
  }

  /** Persist the running total now (end of a run, shutdown). */
  flush(): void {
    if (!this.#dirty) return;
    const now = this.#clock.now();
    writeJsonAtomic(this.#path, { month: this.#month, usedBytes: this.#used, updatedAtMs: now });
    this.#lastPersistMs = now;
    this.#dirty = false;
  }

  #rollOver(now: number): void {
    const month = monthOf(now);
    // Only forward: a clock stepped back a month must not reopen a spent budget.
    if (month > this.#month) {
      this.#month = month;
      this.#used = 0;
      this.#dirty = true;
    }
  }
}

/** Read a budget's figures without counting anything (`status`). */
export function readBudgetUsage(dataDir: string, limitBytes: number | null, clock: Clock = systemClock): BudgetUsage {
  return BandwidthBudget.open(dataDir, { limitBytes, clock }).usage();
}
