/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter", 2015): the n-th wait is uniform in
 * [0, min(cap, base · 2^n)]. Full jitter spreads a crowd of probes that lost
 * their collector at the same instant, so they do not all come back at once.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: { baseMs?: number; capMs?: number; random?: () => number } = {}) {
    this.#baseMs = options.baseMs ?? 1_000;
    this.#capMs = options.capMs ?? 300_000;
    this.#random = options.random ?? Math.random;
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The ceiling of the next wait, ms. */
  ceilingMs(): number {
    return Math.min(this.#capMs, this.#baseMs * 2 ** Math.min(this.#attempt, 40));
  }

  /** The next wait, ms; advances the attempt count. */
  next(): number {
    const wait = Math.floor(this.#random() * this.ceilingMs());
    this.#attempt += 1;
    return wait;
  }

  /** A session succeeded: start again from the base. */
  reset(): void {
    this.#attempt = 0;
  }
}
