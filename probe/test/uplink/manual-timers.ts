import { ManualClock } from '@steppe/shared';
import type { Timers } from '../../src/uplink/timers.js';

/**
 * Timers that fire only when the test moves time, together with a clock
 * that moves with them: a session's timeouts and pacing, without sleeping.
 */
export class ManualTimers implements Timers {
  readonly clock: ManualClock;
  readonly #pending = new Map<number, { at: number; fn: () => void }>();
  #next = 1;

  constructor(startMs = 1_700_000_000_000) {
    this.clock = new ManualClock(startMs);
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = this.#next;
    this.#next += 1;
    this.#pending.set(handle, { at: this.clock.now() + Math.max(0, ms), fn });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#pending.delete(handle);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Move time forward by `ms`, firing every timer due on the way, in time order. */
  advance(ms: number): void {
    const until = this.clock.now() + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#pending) if (entry[1].at <= until && (due === undefined || entry[1].at < due[1].at)) due = entry;
      if (due === undefined) break;
      this.#pending.delete(due[0]);
      this.clock.set(Math.max(this.clock.now(), due[1].at));
      due[1].fn();
    }
    this.clock.set(until);
  }
}
