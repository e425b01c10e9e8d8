import type { Clock } from '@steppe/shared';

/**
 * A token bucket: `rate` tokens per second, holding at most `capacity`.
 * Time comes from the clock, so tests move it instead of sleeping.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(rate: number, capacity: number, clock: Clock) {
    this.#rate = rate;
    this.#capacity = capacity;
    this.#clock = clock;
    this.#tokens = capacity;
    this.#last = clock.now();
  }

  /** Take `n` tokens if available; false (taking none) otherwise. */
  take(n: number): boolean {
    this.#refill();
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Milliseconds until `n` tokens are available (0 if now). */
  waitMs(n: number): number {
    this.#refill();
    if (this.#tokens >= n) return 0;
    return Math.ceil(((n - this.#tokens) / this.#rate) * 1000);
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed / 1000) * this.#rate);
  }
}
