import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasErrorCode } from '@steppe/shared';
import { type SqliteStore, openSqliteStore } from '../../src/store/sqlite-store.js';
import { WorkerWriteChannel } from '../../src/store/worker-write-channel.js';
import { KAZAKHTELECOM, incomingMeasurement, newProbe, signedBatch } from './fixtures.js';

// The SQLite store's writer thread: what a caller sees when it dies, and
// that the event loop goes on while it commits. Runs the built writer
// script (dist/, as crash.test.ts: npm test builds first).

const dir = mkdtempSync(join(tmpdir(), 'steppe-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2020, 11, 6, 4, 0);
let n = 0;

async function storeWithProbe(): Promise<{ store: SqliteStore; probe: ReturnType<typeof newProbe> }> {
  const store = await openSqliteStore(join(dir, `w-${(n += 1)}.db`));
  const probe = newProbe();
  await store.registerProbe(probe.probeId, probe.keys.publicKey, T0, KAZAKHTELECOM);
  return { store, probe };
}

function channelOf(store: SqliteStore): WorkerWriteChannel {
  const writer = store.writer;
  if (!(writer instanceof WorkerWriteChannel)) throw new Error('expected the writer thread');
  return writer;
}

describe('SqliteStore writer thread', () => {
  it('fails the writes of a thread that died with STEPPE_ERR_STORAGE, stores none of them, and starts another', async () => {
    const { store, probe } = await storeWithProbe();
    const lost = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
    channelOf(store).simulateCrash();
    const err = await store.commitBatches([signedBatch(probe, 1, [lost], T0, KAZAKHTELECOM)]).then(() => undefined, (e: unknown) => e);
    expect(hasErrorCode(err, 'STEPPE_ERR_STORAGE')).toBe(true);
    expect(String(err)).toMatch(/writer thread stopped/);
    expect(await store.countMeasurements({})).toBe(0);
    // The next write runs on a new thread; the probe (registered before) is still known there.
    expect(await store.healthy()).toBe(true);
    const [r] = await store.commitBatches([signedBatch(probe, 1, [lost], T0, KAZAKHTELECOM)]);
    expect(r?.stored).toHaveLength(1);
    expect(await store.countMeasurements({})).toBe(1);
    await store.close();
  });

  it('gives up after three deaths within a minute: writes are refused and the store reports unhealthy', async () => {
    const { store, probe } = await storeWithProbe();
    for (let i = 0; i < 3; i += 1) {
      channelOf(store).simulateCrash();
      await expect(store.touchProbe(probe.probeId, T0 + i, KAZAKHTELECOM)).rejects.toThrow(/writer thread/);
    }
    expect(await store.healthy()).toBe(false);
    const err = await store.commitBatches([signedBatch(probe, 1, [incomingMeasurement({ probeId: probe.probeId, startMs: T0 })], T0, KAZAKHTELECOM)]).then(() => undefined, (e: unknown) => e);
    expect(hasErrorCode(err, 'STEPPE_ERR_STORAGE')).toBe(true);
    expect(String(err)).toMatch(/3 times within a minute/);
    // Reads go on: the reading connection is the main thread's.
    expect(await store.countMeasurements({})).toBe(0);
    await store.close();
  });

  it('leaves the event loop free while it commits', async () => {
    const { store, probe } = await storeWithProbe();
    const ms = Array.from({ length: 2_000 }, (_, i) => incomingMeasurement({ probeId: probe.probeId, startMs: T0 + i }));
    const order: string[] = [];
    const commit = store.commitBatches([signedBatch(probe, 1, ms, T0, KAZAKHTELECOM)]).then(() => order.push('committed'));
    setImmediate(() => order.push('event loop turned'));
    await commit;
    expect(order).toEqual(['event loop turned', 'committed']);
    expect(await store.countMeasurements({})).toBe(2_000);
    await store.close();
  });

  it('refuses writes after close, and close waits for the writes already asked for', async () => {
    const { store, probe } = await storeWithProbe();
    const m = incomingMeasurement({ probeId: probe.probeId, startMs: T0 });
    const pending = store.commitBatches([signedBatch(probe, 1, [m], T0, KAZAKHTELECOM)]);
    await store.close();
    expect((await pending)[0]?.stored).toHaveLength(1);
    await expect(store.touchProbe(probe.probeId, T0, KAZAKHTELECOM)).rejects.toThrow(/closed/);
    const again = await openSqliteStore(join(dir, `w-${n}.db`));
    expect(await again.countMeasurements({})).toBe(1);
    await again.close();
  });
});
