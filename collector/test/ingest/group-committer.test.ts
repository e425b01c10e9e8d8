import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GroupCommitter, IngestMetrics } from '../../src/ingest/index.js';
import type { IncomingBatch } from '../../src/store/store.js';
import { MemoryIngestStore } from './memory-store.js';

function batch(n: number): IncomingBatch {
  const id = new Uint8Array(16);
  id[15] = n;
  return { probeId: 'p', sequence: n, header: new Uint8Array(), signature: new Uint8Array(), receivedMs: 1, network: { asn: 0, cc: 'ZZ', networkName: '' }, measurements: [{ id, raw: new Uint8Array([n]), decoded: {} as never }] };
}

describe('GroupCommitter', () => {
  it('commits batches submitted in one turn of the event loop in one transaction', async () => {
    const store = new MemoryIngestStore();
    const c = new GroupCommitter(store, new IngestMetrics(new Registry()), { maxBatches: 64 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => c.submit(batch(n))));
    expect(store.commits).toBe(1);
    expect(results.map((r) => r.stored.length)).toEqual([1, 1, 1, 1, 1]);
  });

  it('splits at maxBatches', async () => {
    const store = new MemoryIngestStore();
    const c = new GroupCommitter(store, new IngestMetrics(new Registry()), { maxBatches: 2 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => c.submit(batch(n))));
    expect(store.commits).toBe(3);
  });

  it('retries each batch alone when a group fails, so one failure does not sink the others', async () => {
    const store = new MemoryIngestStore();
    store.failNext = 2; // the group, then the first retried batch
    const c = new GroupCommitter(store, new IngestMetrics(new Registry()));
    const settled = await Promise.allSettled([1, 2, 3].map((n) => c.submit(batch(n))));
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(store.rows.size).toBe(2);
  });
});
