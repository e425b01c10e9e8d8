import type { Clock } from '@steppe/shared';

interface Entry<T> {
  readonly promise: Promise<T>;
  readonly createdMs: number;
}

/**
 * Results reused for a short time per key, so a burst of probes measuring
 * the same URL costs one control measurement. Concurrent callers of a key
 * share the measurement in flight. A rejected measurement is not kept.
 * Bounded: beyond `maxEntries` the oldest entries go first.
 */
export class ResultCache<T> {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;
  // A Map iterates in insertion order: the first key is the oldest.
  readonly #entries = new Map<string, Entry<T>>();

  constructor(options: { readonly ttlMs: number; readonly maxEntries: number; readonly clock: Clock }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = Math.max(1, options.maxEntries);
    this.#clock = options.clock;
  }

  /** Number of entries held (fresh or not yet swept). */
  get size(): number {
    return this.#entries.size;
  }

  /** The fresh value for `key`, or the value `create()` produces (then kept for the TTL). */
  async getOrCreate(key: string, create: () => Promise<T>): Promise<{ readonly value: T; readonly hit: boolean }> {
    const now = this.#clock.now();
    const entry = this.#entries.get(key);
    if (entry !== undefined && now - entry.createdMs < this.#ttlMs) {
      return { value: await entry.promise, hit: true };
    }
    if (entry !== undefined) this.#entries.delete(key);
    this.#sweep(now);
    const promise = create();
    const fresh: Entry<T> = { promise, createdMs: now };
    this.#entries.set(key, fresh);
    try {
      return { value: await promise, hit: false };
    } catch (err) {
      if (this.#entries.get(key) === fresh) this.#entries.delete(key);
      throw err;
    }
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (now - entry.createdMs < this.#ttlMs) break;
      this.#entries.delete(key);
    }
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }
}
