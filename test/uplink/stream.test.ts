import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Uplink } from '../../probe/src/uplink/index.js';
import { type LocalCollector, makeProbe, queueMeasurements, startLocalCollector, storedIds, tempDir } from './helpers.js';

const tmp = tempDir('steppe-uplink-stream-');
let collector: LocalCollector;

beforeAll(async () => {
  collector = await startLocalCollector(tmp.path);
});
afterAll(async () => {
  await collector.close();
  tmp.remove();
});

describe('uplink → ingest → SqliteStore', () => {
  it('streams a queue, deletes only acked rows, stores each measurement once', async () => {
    const probe = makeProbe(join(tmp.path, 'probe-a'));
    const ids = queueMeasurements(probe, 250, Date.now() - 86_400_000, 60_000);
    const uplink = new Uplink({ collectors: [collector.url], identity: probe.identity, outbox: probe.outbox, maxBatchMeasurements: 40 });
    const acks: number[] = [];
    uplink.on('acked', (a) => acks.push(a.stored));
    const result = await uplink.flush({ timeoutMs: 15_000 });
    await uplink.close();
    expect(result).toEqual({ acked: 250, pending: 0 });
    expect(acks.reduce((a, b) => a + b, 0)).toBe(250);
    expect(probe.outbox.stats().count).toBe(0);
    const stored = new Set(await storedIds(collector.store));
    expect(stored.size).toBe(250);
    for (const id of ids) expect(stored.has(id)).toBe(true);
    probe.outbox.close();
  });
});
