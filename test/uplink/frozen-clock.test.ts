import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@steppe/shared';
import { Uplink } from '../../probe/src/uplink/index.js';
import { makeProbe, queueMeasurements, startLocalCollector, tempDir } from './helpers.js';

// A lab or a replay may give the uplink a simulated clock that stands still
// while real timers run (time moved only between rounds). The pacer waits on
// the timers; it must count that wait even when the clock did not move, or a
// burst larger than the collector's per-second budget never drains.
const tmp = tempDir('steppe-frozen-clock-');
afterAll(() => tmp.remove());

describe('uplink on a clock that stands still', () => {
  it('paces a burst beyond the collector\'s batches-per-second budget, then drains it', async () => {
    const clock = new ManualClock(Date.UTC(2020, 11, 6, 6));
    const collector = await startLocalCollector(tmp.path, { limits: { maxBatchesPerSecond: 20 } });
    const probe = makeProbe(`${tmp.path}/probe`);
    const ids = queueMeasurements(probe, 40, clock.now() - 3_600_000, 1_000);
    const uplink = new Uplink({ collectors: [collector.url], identity: probe.identity, outbox: probe.outbox, clock, maxBatchMeasurements: 1 });
    try {
      const result = await uplink.flush({ timeoutMs: 15_000 });
      expect(result).toEqual({ acked: ids.length, pending: 0 });
    } finally {
      await uplink.close();
      probe.outbox.close();
      await collector.close();
    }
  }, 30_000);
});
