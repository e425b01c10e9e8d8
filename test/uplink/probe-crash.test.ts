import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProbe, queueMeasurements, storedIdsIn, tempDir } from './helpers.js';
import { type CollectorProcess, spawnCollector, spawnProbe } from './processes.js';

// A probe process killed (SIGKILL) in the middle of an upload: what was acked
// is gone from its outbox, the rest is still there; a restarted probe resends
// the rest, and the collector ends up with every measurement exactly once.
const tmp = tempDir('steppe-probe-crash-');
let collector: CollectorProcess;
const db = join(tmp.path, 'collector.sqlite');

beforeAll(async () => {
  collector = await spawnCollector(['--db', db]);
});
afterAll(async () => {
  await collector.kill('SIGTERM');
  tmp.remove();
});

describe('probe killed mid-upload', () => {
  it('resends after restart: nothing lost, nothing doubled', async () => {
    const dir = join(tmp.path, 'probe');
    const probe = makeProbe(dir);
    const ids = queueMeasurements(probe, 300, Date.now() - 7_200_000, 1_000, 3);
    probe.outbox.close();

    const first = spawnProbe(['--data-dir', dir, '--collector', collector.url, '--batch', '5', '--in-flight', '2']);
    // Kill it once a few acks went through, with batches still in flight.
    const deadline = Date.now() + 20_000;
    while ((first.output().match(/ACKED/g) ?? []).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    first.child.kill('SIGKILL');
    await first.exited;
    const ackedFirst = (first.output().match(/ACKED/g) ?? []).length;
    expect(ackedFirst).toBeGreaterThanOrEqual(5);
    expect(first.output()).not.toContain('DONE');

    const reopened = makeProbe(dir);
    const left = reopened.outbox.stats().count;
    reopened.outbox.close();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(300);

    const second = spawnProbe(['--data-dir', dir, '--collector', collector.url, '--batch', '50']);
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(/DONE \d+ 0/);

    const after = makeProbe(dir);
    expect(after.outbox.stats().count).toBe(0);
    after.outbox.close();
    const stored = await storedIdsIn(db);
    expect(stored.length).toBe(300);
    expect(new Set(stored)).toEqual(new Set(ids));
  }, 60_000);
});
