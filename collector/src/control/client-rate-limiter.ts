import type { Clock } from '@steppe/shared';
import { TokenBucket } from '../ingest/token-bucket.js';

/**
 * A token bucket per client address, in memory only: the address is a map
 * key and nothing else; it is never stored, logged or returned (a
 * volunteer's IP is never kept by the collector), and is forgotten when the
 * process ends or when `maxClients` more recent clients push it out (least
 * recently used first).
 */
export class ClientRateLimiter {
  readonly #burst: number;
  readonly #perSecond: number;
  readonly #clock: Clock;
  readonly #maxClients: number;
  // Insertion order doubles as recency: a used key is moved to the end.
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(options: { readonly burst: number; readonly perSecond: number; readonly clock: Clock; readonly maxClients?: number }) {
    this.#burst = options.burst;
    this.#perSecond = options.perSecond;
    this.#clock = options.clock;
    this.#maxClients = options.maxClients ?? 10_000;
  }

  /** Number of clients currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Take one token for `client`: 0 when allowed, otherwise the milliseconds to wait. */
  take(client: string): number {
    let bucket = this.#buckets.get(client);
    if (bucket === undefined) {
      while (this.#buckets.size >= this.#maxClients) {
        const oldest = this.#buckets.keys().next();
        if (oldest.done === true) break;
        this.#buckets.delete(oldest.value);
      }
      bucket = new TokenBucket(this.#perSecond, this.#burst, this.#clock);
    } else {
      this.#buckets.delete(client);
    }
    this.#buckets.set(client, bucket);
    if (bucket.take(1)) return 0;
    return Math.max(1, bucket.waitMs(1));
  }
}
