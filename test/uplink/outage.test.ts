import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@steppe/shared';
import { loadOrCreateIdentity } from '../../probe/src/identity/index.js';
import { Outbox } from '../../probe/src/outbox/index.js';
import { type Timers, Uplink } from '../../probe/src/uplink/index.js';
import { type LocalCollector, queueMeasurements, startLocalCollector, tempDir, toArray } from './helpers.js';

// A collector unreachable for three simulated days: two probes keep measuring
// into their outboxes and keep retrying with backoff (capped at 5 min). Time is
// simulated: every wait the uplink asks for passes 1000× faster and moves the
// probes' clock. When the collector comes back, every measurement arrives, and
// for each probe in order of measurement time.
const tmp = tempDir('steppe-outage-');
afterAll(() => tmp.remove());
const DAY = 86_400_000;

describe('collector unreachable for days (simulated)', () => {
  it('delivers everything afterwards, in measurement-time order per probe', async () => {
    const clock = new ManualClock(Date.UTC(2020, 11, 4));
    const fast: Timers = {
      setTimeout: (fn, ms) => setTimeout(() => {
        clock.advance(ms);
        fn();
      }, Math.ceil(ms / 1000)),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
    // Reserve a port, leave it closed: connection refused until the collector starts there.
    const reserve = createServer();
    await new Promise<void>((r) => reserve.listen(0, '127.0.0.1', r));
    const port = (reserve.address() as AddressInfo).port;
    await new Promise<void>((r) => reserve.close(() => r()));
    const url = `http://127.0.0.1:${port}`;

    const probes = [0, 1].map((i) => {
      const dir = join(tmp.path, `probe-${i}`);
      const identity = loadOrCreateIdentity(dir);
      const outbox = Outbox.open(join(dir, 'outbox.sqlite'), { clock, maxAgeMs: 30 * DAY });
      return { dir, identity, outbox };
    });
    const retries: number[] = [];
    const uplinks = probes.map((p) => {
      const u = new Uplink({ collectors: [url], identity: p.identity, outbox: p.outbox, clock, timers: fast, random: () => 0.9, maxBatchMeasurements: 25, maxInFlight: 2, connectTimeoutMs: 2_000 });
      u.on('retrying', (e) => retries.push(e.inMs));
      u.start();
      return u;
    });
    // Three simulated days of measurements, every ~17 minutes, while retries go on.
    const expected = new Map<string, number>();
    for (let day = 0; day < 3; day += 1) {
      probes.forEach((p, i) => {
        for (const id of queueMeasurements(p, 85, clock.now() - DAY + day * 10_000 + i, 1_000_000, day * 10 + i + 1)) expected.set(id, i);
      });
      await new Promise((r) => setTimeout(r, 150));
    }
    while (retries.filter((w) => w > 100_000).length < 4) await new Promise((r) => setTimeout(r, 20));
    expect(Math.max(...retries)).toBeLessThanOrEqual(300_000);
    for (const p of probes) expect(p.outbox.stats().count).toBe(255);

    // The collector comes back; its clock ticks once per batch so arrival order is visible.
    let tick = Date.UTC(2020, 11, 7);
    const collector: LocalCollector = await startLocalCollector(tmp.path, { clock: { now: () => (tick += 1) } }, '127.0.0.1', port);
    try {
      const results = await Promise.all(uplinks.map((u) => u.flush({ timeoutMs: 30_000 })));
      for (const r of results) expect(r.pending).toBe(0);
      const records = await toArray(collector.store.iterateRecords({}, { order: 'asc' }));
      expect(records.length).toBe(expected.size);
      for (const p of probes) {
        const mine = records.filter((r) => r.probeId === p.identity.probeId).sort((a, b) => a.startMs - b.startMs);
        expect(mine.length).toBe(255);
        for (let i = 1; i < mine.length; i += 1) expect(mine[i]?.receivedMs ?? 0).toBeGreaterThanOrEqual(mine[i - 1]?.receivedMs ?? 0);
      }
    } finally {
      await Promise.all(uplinks.map((u) => u.close()));
      for (const p of probes) p.outbox.close();
      await collector.close();
    }
  }, 60_000);
});
