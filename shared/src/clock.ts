/**
 * A source of time. Every component takes one, so the lab and the demo can
 * replay a day in minutes and tests never sleep for real.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The machine's clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to (tests, replays). */
export class ManualClock implements Clock {
  #now: number;

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Move forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now += ms;
  }

  /** Jump to an absolute time. */
  set(ms: number): void {
    this.#now = ms;
  }
}
