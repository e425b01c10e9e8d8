import type { Clock } from '@steppe/shared';
import { TokenBucket } from './token-bucket.js';
import type { IngestLimits } from './limits.js';

interface ProbeRate {
  readonly batches: TokenBucket;
  readonly bytes: TokenBucket;
  sessions: number;
}

/**
 * Per-probe rate limits, shared by all connections of one probe (a daemon
 * and a `measure --collector` run may be connected at once), forgotten when
 * its last connection closes.
 */
export class ProbeRates {
  readonly #limits: IngestLimits;
  readonly #clock: Clock;
  readonly #rates = new Map<string, ProbeRate>();

  constructor(limits: IngestLimits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  acquire(probeId: string): void {
    let rate = this.#rates.get(probeId);
    if (rate === undefined) {
      const l = this.#limits;
      rate = {
        batches: new TokenBucket(l.maxBatchesPerSecond, l.maxBatchesPerSecond, this.#clock),
        bytes: new TokenBucket(l.maxBytesPerSecond, Math.max(l.maxBytesPerSecond, l.maxFrameBytes), this.#clock),
        sessions: 0,
      };
      this.#rates.set(probeId, rate);
    }
    rate.sessions += 1;
  }

  release(probeId: string): void {
    const rate = this.#rates.get(probeId);
    if (rate === undefined) return;
    rate.sessions -= 1;
    if (rate.sessions <= 0) this.#rates.delete(probeId);
  }

  /** Which limit a batch of `bytes` would exceed now, or undefined (and the tokens are taken). */
  admit(probeId: string, bytes: number): 'batches' | 'bytes' | undefined {
    const rate = this.#rates.get(probeId);
    if (rate === undefined) return undefined;
    if (rate.batches.waitMs(1) > 0) return 'batches';
    if (!rate.bytes.take(bytes)) return 'bytes';
    rate.batches.take(1);
    return undefined;
  }
}
