import { join } from 'node:path';
import { ConfigError } from '@steppe/shared';
import { readJsonIfExists, writeJsonAtomic } from '../config/json-file.js';

/** File name of the run history inside the data directory. */
export const RUN_HISTORY_FILE_NAME = 'runs.json';

/** Runs kept in the history. */
export const RUN_HISTORY_LENGTH = 20;

/** An anomalous result, as the summary and `status` name it. */
export interface AnomalyNote {
  readonly url: string;
  readonly verdict: string;
  readonly blockingType: string;
  readonly failure: string;
  readonly confirmed: boolean;
}

/** One run, as recorded after it ends. */
export interface RunRecord {
  readonly id: string;
  readonly kind: 'core' | 'full';
  /** "schedule" for the daemon, "manual" for `run --once`. */
  readonly trigger: 'schedule' | 'manual';
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  /** completed; aborted (shutdown); failed (could not run at all). */
  readonly outcome: 'completed' | 'aborted' | 'failed';
  readonly lists: string[];
  readonly testListVersion: string;
  readonly targets: number;
  /** Measurements stored in the outbox (connectivity included). */
  readonly measured: number;
  readonly verdicts: Record<string, number>;
  /** Anomalies, at most 50 (the count is in `verdicts`). */
  readonly anomalies: AnomalyNote[];
  readonly bytesMoved: number;
  /** True when the run was cut to the core list because the month's budget is spent. */
  readonly limitedByBudget: boolean;
  readonly connectivity: { readonly url: string; readonly role: string; readonly reachable: boolean; readonly failure: string }[];
  readonly error?: string;
}

/**
 * The last runs, kept in the data directory for `status`. Only counts and
 * URLs of the lists: nothing that identifies the volunteer.
 */
export class RunHistory {
  readonly #path: string;

  constructor(dataDir: string) {
    this.#path = join(dataDir, RUN_HISTORY_FILE_NAME);
  }

  /** Newest first. A damaged file is a ConfigError naming it. */
  list(): RunRecord[] {
    let value: unknown;
    try {
      value = readJsonIfExists(this.#path);
    } catch (cause) {
      throw new ConfigError('', `${this.#path}: unreadable run history (${cause instanceof Error ? cause.message : String(cause)}); delete it`, { cause });
    }
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new ConfigError('', `${this.#path}: expected a list of runs; delete it`);
    return value as RunRecord[];
  }

  /** Add a run (keeping the newest RUN_HISTORY_LENGTH). */
  add(run: RunRecord): void {
    let runs: RunRecord[];
    try {
      runs = this.list();
    } catch {
      runs = []; // a damaged history is replaced rather than blocking the probe
    }
    writeJsonAtomic(this.#path, [run, ...runs].slice(0, RUN_HISTORY_LENGTH));
  }
}
