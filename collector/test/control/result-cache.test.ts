import { describe, expect, it } from 'vitest';
import { ManualClock } from '@steppe/shared';
import { ClientRateLimiter, ResultCache } from '../../src/control/index.js';

describe('ResultCache', () => {
  it('shares one measurement between concurrent callers of a key', async () => {
    const cache = new ResultCache<number>({ ttlMs: 1000, maxEntries: 10, clock: new ManualClock(0) });
    let runs = 0;
    let release: (v: number) => void = () => undefined;
    const create = (): Promise<number> => {
      runs += 1;
      return new Promise<number>((resolve) => {
        release = resolve;
      });
    };
    const a = cache.getOrCreate('k', create);
    const b = cache.getOrCreate('k', create);
    release(7);
    expect(await a).toEqual({ value: 7, hit: false });
    expect(await b).toEqual({ value: 7, hit: true });
    expect(runs).toBe(1);
  });

  it('expires entries after the TTL and does not keep a failed measurement', async () => {
    const clock = new ManualClock(0);
    const cache = new ResultCache<number>({ ttlMs: 1000, maxEntries: 10, clock });
    await expect(cache.getOrCreate('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(cache.size).toBe(0);
    expect(await cache.getOrCreate('k', () => Promise.resolve(1))).toEqual({ value: 1, hit: false });
    clock.advance(999);
    expect(await cache.getOrCreate('k', () => Promise.resolve(2))).toEqual({ value: 1, hit: true });
    clock.advance(1);
    expect(await cache.getOrCreate('k', () => Promise.resolve(3))).toEqual({ value: 3, hit: false });
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = new ResultCache<string>({ ttlMs: 60_000, maxEntries: 2, clock: new ManualClock(0) });
    for (const k of ['a', 'b', 'c']) await cache.getOrCreate(k, () => Promise.resolve(k));
    expect(cache.size).toBe(2);
    expect((await cache.getOrCreate('a', () => Promise.resolve('a2'))).value).toBe('a2');
    expect((await cache.getOrCreate('c', () => Promise.resolve('c2'))).value).toBe('c');
  });
});

describe('ClientRateLimiter', () => {
  it('gives each client its own bucket and tells how long to wait', () => {
    const clock = new ManualClock(0);
    const limiter = new ClientRateLimiter({ burst: 1, perSecond: 2, clock });
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
    expect(limiter.take('a')).toBe(500);
    clock.advance(500);
    expect(limiter.take('a')).toBe(0);
  });

  it('tracks at most maxClients, forgetting the least recently seen', () => {
    const limiter = new ClientRateLimiter({ burst: 1, perSecond: 0.001, clock: new ManualClock(0), maxClients: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c');
    expect(limiter.size).toBe(2);
    // "a" was forgotten: a fresh bucket.
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('c')).toBeGreaterThan(0);
  });
});
