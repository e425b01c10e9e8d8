import { InvalidArgumentError } from '@steppe/shared';
import { delay, systemTimers, type Timers } from './timers.js';

/** The two scheduled runs: the small core list, or everything (core + full lists). */
export type RunKind = 'core' | 'full';

/** What the gate did with a tick or a run; the daemon logs each one. */
export type GateEvent =
  | { readonly type: 'scheduled'; readonly kind: RunKind; readonly firedAtMs: number; readonly delayMs: number }
  | { readonly type: 'upgraded'; readonly kind: RunKind; readonly firedAtMs: number }
  | { readonly type: 'skipped'; readonly kind: RunKind; readonly firedAtMs: number; readonly reason: 'run_in_progress' | 'run_pending' | 'stopping' }
  | { readonly type: 'started'; readonly kind: RunKind }
  | { readonly type: 'finished'; readonly kind: RunKind }
  | { readonly type: 'failed'; readonly kind: RunKind; readonly error: unknown }
  | { readonly type: 'abandoning'; readonly kind: RunKind };

/** Options of {@link RunGate}. */
export interface RunGateOptions {
  /** Upper bound of the random delay before each run (0: none). */
  readonly maxJitterMs: number;
  /** The run itself; must stop promptly when `signal` aborts. */
  readonly run: (kind: RunKind, signal: AbortSignal) => Promise<void>;
  readonly onEvent?: (event: GateEvent) => void;
  /** A number in [0, 1); Math.random by default. */
  readonly random?: () => number;
  readonly timers?: Timers;
}

interface Pending {
  kind: RunKind;
  readonly cancel: AbortController;
}

/**
 * Turns schedule ticks into runs, one at a time:
 * - each tick waits a random delay in [0, maxJitter) first, so thousands of
 *   probes on the same cron don't hit the control and the censor's view of
 *   the network at the same second;
 * - runs never overlap: a tick while a run is in progress is skipped (and
 *   reported), as is a core tick while a run is already waiting its delay;
 * - a full tick while a core run is waiting upgrades it to full (the full run
 *   includes the core list; at :00 both crons fire together);
 * - `stop()` cancels the waiting run and lets the running one finish within
 *   a grace period, then aborts it and waits for it to wind down.
 */
export class RunGate {
  readonly #options: RunGateOptions;
  readonly #random: () => number;
  readonly #timers: Timers;
  #pending: Pending | undefined;
  #running: { kind: RunKind; done: Promise<void>; abort: AbortController } | undefined;
  #stopping = false;

  constructor(options: RunGateOptions) {
    if (!Number.isFinite(options.maxJitterMs) || options.maxJitterMs < 0) {
      throw new InvalidArgumentError(`RunGate: maxJitterMs must be >= 0, got ${options.maxJitterMs}`);
    }
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? systemTimers;
  }

  /** True while a run is waiting its delay or running. */
  get busy(): boolean {
    return this.#pending !== undefined || this.#running !== undefined;
  }

  /** The kind of the run in progress, if any. */
  get runningKind(): RunKind | undefined {
    return this.#running?.kind;
  }

  /** A schedule tick. */
  trigger(kind: RunKind, firedAtMs: number): GateEvent['type'] {
    if (this.#stopping) return this.#emit({ type: 'skipped', kind, firedAtMs, reason: 'stopping' });
    if (this.#running !== undefined) return this.#emit({ type: 'skipped', kind, firedAtMs, reason: 'run_in_progress' });
    const pending = this.#pending;
    if (pending !== undefined) {
      if (kind === 'full' && pending.kind === 'core') {
        pending.kind = 'full';
        return this.#emit({ type: 'upgraded', kind, firedAtMs });
      }
      return this.#emit({ type: 'skipped', kind, firedAtMs, reason: 'run_pending' });
    }
    const delayMs = Math.floor(Math.min(0.999_999, Math.max(0, this.#random())) * this.#options.maxJitterMs);
    const next: Pending = { kind, cancel: new AbortController() };
    this.#pending = next;
    this.#emit({ type: 'scheduled', kind, firedAtMs, delayMs });
    void delay(delayMs, this.#timers, next.cancel.signal).then(() => {
      if (this.#pending !== next) return;
      this.#pending = undefined;
      if (next.cancel.signal.aborted) return;
      this.#start(next.kind);
    });
    return 'scheduled';
  }

  /**
   * Stop: no new runs; a waiting run is cancelled; a running one gets
   * `finishGraceMs` to finish, then is aborted and awaited at most
   * `abandonWaitMs` more. Resolves when nothing runs (or the waits expired).
   */
  async stop(options: { readonly finishGraceMs: number; readonly abandonWaitMs: number }): Promise<void> {
    this.#stopping = true;
    if (this.#pending !== undefined) {
      this.#pending.cancel.abort();
      this.#pending = undefined;
    }
    const running = this.#running;
    if (running === undefined) return;
    const finished = await this.#within(running.done, options.finishGraceMs);
    if (finished) return;
    this.#emit({ type: 'abandoning', kind: running.kind });
    running.abort.abort(new Error('probe shutting down'));
    await this.#within(running.done, options.abandonWaitMs);
  }

  #start(kind: RunKind): void {
    const abort = new AbortController();
    this.#emit({ type: 'started', kind });
    const done = (async () => {
      try {
        await this.#options.run(kind, abort.signal);
        this.#emit({ type: 'finished', kind });
      } catch (error) {
        this.#emit({ type: 'failed', kind, error });
      } finally {
        this.#running = undefined;
      }
    })();
    this.#running = { kind, done, abort };
  }

  async #within(promise: Promise<void>, ms: number): Promise<boolean> {
    let settled = false;
    const tracked = promise.then(() => {
      settled = true;
    });
    const cancel = new AbortController();
    await Promise.race([tracked, delay(ms, this.#timers, cancel.signal)]);
    cancel.abort();
    return settled;
  }

  #emit(event: GateEvent): GateEvent['type'] {
    this.#options.onEvent?.(event);
    return event.type;
  }
}
