import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GroupCommitter, IngestMetrics } from '../../src/ingest/index.js';
import type { IncomingBatch } from '../../src/store/store.js';
import { MemoryIngestStore } from './memory-store.js';

let next = 0;
function batch(measurements: number): IncomingBatch {
  return {
    probeId: 'p', sequence: next, header: new Uint8Array(), signature: new Uint8Array(), receivedMs: 1, network: { asn: 0, cc: 'ZZ', networkName: '' },
    measurements: Array.from({ length: measurements }, () => {
      next += 1;
      const id = new Uint8Array(16);
      new DataView(id.buffer).setUint32(12, next);
      return { id, raw: new Uint8Array([1]), decoded: {} as never };
    }),
  };
}

class CountingStore extends MemoryIngestStore {
  readonly groups: number[] = [];
  override commitBatches(batches: readonly IncomingBatch[]): ReturnType<MemoryIngestStore['commitBatches']> {
    this.groups.push(batches.reduce((n, b) => n + b.measurements.length, 0));
    return super.commitBatches(batches);
  }
}

describe('GroupCommitter sizing', () => {
  it('takes everything queued in one transaction by default, however many batches', async () => {
    const store = new CountingStore();
    const c = new GroupCommitter(store, new IngestMetrics(new Registry()));
    await Promise.all(Array.from({ length: 300 }, () => c.submit(batch(10))));
    expect(store.groups).toEqual([3000]);
  });

  it('caps a transaction by measurements, committing the rest in the next one', async () => {
    const store = new CountingStore();
    const c = new GroupCommitter(store, new IngestMetrics(new Registry()), { maxMeasurements: 100 });
    const results = await Promise.all(Array.from({ length: 7 }, () => c.submit(batch(30))));
    expect(store.groups).toEqual([90, 90, 30]);
    expect(results.every((r) => r.stored.length === 30)).toBe(true);
  });

  it('commits a batch larger than the cap alone rather than refusing it', async () => {
    const store = new CountingStore();
    const c = new GroupCommitter(store, new IngestMetrics(new Registry()), { maxMeasurements: 100 });
    const results = await Promise.all([c.submit(batch(10)), c.submit(batch(250)), c.submit(batch(10))]);
    expect(store.groups).toEqual([10, 250, 10]);
    expect(results.map((r) => r.stored.length)).toEqual([10, 250, 10]);
  });

  it('reports pressure when the queue behind the commit in flight reaches the high-water mark, and relief below half of it', async () => {
    const store = new CountingStore();
    let open!: () => void;
    store.gate = new Promise((resolve) => { open = resolve; });
    const signals: boolean[] = [];
    const c = new GroupCommitter(store, new IngestMetrics(new Registry()), { maxMeasurements: 100, highWaterMeasurements: 100, onPressure: (high) => signals.push(high) });
    const first = c.submit(batch(100)); // full: commits at once, held by the gate
    await new Promise((resolve) => setImmediate(resolve));
    const rest = Array.from({ length: 4 }, () => c.submit(batch(30)));
    expect(signals).toEqual([true]);
    expect(c.pressed).toBe(true);
    open();
    await Promise.all([first, ...rest]);
    expect(signals).toEqual([true, false]);
    expect(store.groups).toEqual([100, 90, 30]);
  });

  it('commits at the next turn under light load: a lone batch waits for nothing', async () => {
    const store = new CountingStore();
    const c = new GroupCommitter(store, new IngestMetrics(new Registry()));
    await c.submit(batch(5));
    await c.submit(batch(5));
    expect(store.groups).toEqual([5, 5]);
  });
});
