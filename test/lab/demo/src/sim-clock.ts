import { performance } from 'node:perf_hooks';
import { type Clock, InvalidArgumentError } from '@steppe/shared';

/**
 * The demo's simulated time: it jumps to each round's time and then runs at
 * real speed until the next jump. Everything shares it — the probes' engine
 * (measurement start times), outboxes and uplinks, and the collector
 * (received times, rollups, "now") — so a 15-minute round takes a second or
 * two of wall time while durations inside a measurement stay real (the
 * engine times steps with performance.now() anyway), and the collector sees
 * a measurement from an outbox arrive hours after it started, as it would.
 *
 * Never goes backwards: a jump to a time already passed is refused, so
 * received times can never precede start times.
 */
export class SimClock implements Clock {
  #baseMs: number;
  #realBase: number;

  constructor(startMs: number) {
    if (!Number.isSafeInteger(startMs)) throw new InvalidArgumentError(`SimClock: start must be an integer of ms, got ${startMs}`);
    this.#baseMs = startMs;
    this.#realBase = performance.now();
  }

  now(): number {
    return this.#baseMs + Math.floor(performance.now() - this.#realBase);
  }

  /** Jump to `ms` (not before now) and run at real speed from there. */
  jumpTo(ms: number): void {
    const now = this.now();
    if (!Number.isSafeInteger(ms) || ms < now) {
      throw new InvalidArgumentError(`SimClock: cannot jump to ${new Date(ms).toISOString()}, simulated time is already ${new Date(now).toISOString()}`);
    }
    this.#baseMs = ms;
    this.#realBase = performance.now();
  }
}
