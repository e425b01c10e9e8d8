import type { Clock } from '@steppe/shared';

/**
 * Keeps the probe under the collector's announced rates (a token bucket per
 * limit, at 90% of it), so a well-behaved probe is never refused with
 * STEPPE_ERR_RATE_LIMITED.
 */
export class Pacer {
  readonly #clock: Clock;
  readonly #batchRate: number;
  readonly #byteRate: number;
  readonly #batchCap: number;
  readonly #byteCap: number;
  #batches: number;
  #bytes: number;
  #last: number;
  /** Time the uplink waited on its timers since the last refill. */
  #waited = 0;

  constructor(clock: Clock, batchesPerSecond: number, bytesPerSecond: number, maxFrameBytes: number) {
    this.#clock = clock;
    this.#batchRate = Math.max(0.1, batchesPerSecond * 0.9);
    this.#byteRate = Math.max(1024, bytesPerSecond * 0.9);
    // Stay inside the collector's bucket (capacity: one second's worth).
    this.#batchCap = Math.max(1, Math.floor(this.#batchRate));
    this.#byteCap = Math.max(this.#byteRate, maxFrameBytes);
    this.#batches = this.#batchCap;
    this.#bytes = this.#byteCap;
    this.#last = clock.now();
  }

  /** Ms to wait before a frame of `bytes` may go (0: now). */
  waitMs(bytes: number): number {
    this.#refill();
    const needBatches = this.#batches >= 1 ? 0 : ((1 - this.#batches) / this.#batchRate) * 1000;
    const needBytes = this.#bytes >= bytes ? 0 : ((bytes - this.#bytes) / this.#byteRate) * 1000;
    return Math.ceil(Math.max(needBatches, needBytes));
  }

  /**
   * The uplink waited `ms` on its timers before asking again. Counted even
   * when the clock did not move: a simulated clock may stand still while
   * real timers run, and a pacer that refilled by the clock alone would then
   * wait forever.
   */
  waited(ms: number): void {
    this.#waited += Math.max(0, ms);
  }

  /** Account for a frame sent. */
  spend(bytes: number): void {
    this.#refill();
    this.#batches -= 1;
    this.#bytes -= bytes;
  }

  #refill(): void {
    const now = this.#clock.now();
    const dt = Math.max(0, now - this.#last, this.#waited) / 1000;
    this.#last = now;
    this.#waited = 0;
    this.#batches = Math.min(this.#batchCap, this.#batches + dt * this.#batchRate);
    this.#bytes = Math.min(this.#byteCap, this.#bytes + dt * this.#byteRate);
  }
}
