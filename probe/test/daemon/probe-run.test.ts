import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMeasurement, ManualClock, type MeasurementProps, newId } from '@steppe/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { BandwidthBudget } from '../../src/budget/bandwidth-budget.js';
import type { ConnectivityResult } from '../../src/connectivity/connectivity-test.js';
import { executeRun, type MeasureTargets, type ProbeRunDeps } from '../../src/daemon/probe-run.js';
import type { EngineOptions, Target } from '../../src/experiments/engine-options.js';
import { PublicAddressSet } from '../../src/privacy/public-address.js';
import { CORE_TARGETS } from '../../src/testlists/core.js';
import { TestListStore } from '../../src/testlists/store.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'steppe-run-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const ENGINE: EngineOptions = {
  probeId: 'p1',
  resolver: { host: '127.0.0.1', port: 53 },
  allowNet: [],
  controlSni: 'example.org',
  perTargetTimeoutMs: 1000,
  maxBodyBytes: 1024,
  concurrency: 2,
};

/**
 * A stand-in engine: one measurement per target, each "moving" a fixed
 * number of bytes; facebook.com comes back as interception. Verdicts here
 * exercise the run's bookkeeping, not the verdict engine.
 */
function fakeEngine(bytesPerTarget: number, clock: ManualClock, calls: Target[][]): MeasureTargets {
  return async (targets, _options, hooks) => {
    calls.push(targets);
    for (const t of targets) {
      if (hooks.signal?.aborted === true) return;
      clock.advance(100);
      const blocked = t.url === 'https://www.facebook.com/';
      const m: MeasurementProps = {
        id: newId(clock.now()),
        probeId: 'p1',
        testName: 'web_connectivity',
        startTimeMs: clock.now(),
        input: t.url,
        categoryCode: t.categoryCode ?? '',
        testList: t.testList ?? '',
        testListVersion: t.testListVersion ?? '',
        analysis: blocked
          ? { verdict: 'interception', blockingType: 'tls_mitm', anomaly: true, confirmed: true, failure: 'ssl_unknown_authority' }
          : { verdict: 'accessible', accessible: true },
      };
      await hooks.onMeasurement(m as never, { bytesSent: bytesPerTarget / 2, bytesReceived: bytesPerTarget / 2 });
    }
  };
}

function deps(dir: string, over: Partial<ProbeRunDeps> & { clock: ManualClock; limit: number | null; bytesPerTarget: number; calls: Target[][] }): { deps: ProbeRunDeps; stored: Uint8Array[]; budget: BandwidthBudget } {
  const stored: Uint8Array[] = [];
  const budget = BandwidthBudget.open(dir, { limitBytes: over.limit, clock: over.clock });
  const connectivity: ConnectivityResult = {
    measurement: { id: newId(over.clock.now()), probeId: 'p1', testName: 'connectivity', startTimeMs: over.clock.now(), input: 'http://127.0.0.1:1', analysis: { verdict: '', anomaly: true, failure: 'connection_refused' }, annotations: { connectivity_role: 'control' } },
    reachable: false,
    bytesMoved: 120,
  };
  return {
    stored,
    budget,
    deps: {
      measureTargets: fakeEngine(over.bytesPerTarget, over.clock, over.calls),
      engineOptions: ENGINE,
      sink: { enqueue: (bytes) => stored.push(bytes) },
      budget,
      addresses: new PublicAddressSet(),
      catalog: () => new TestListStore(dir).load(),
      fullLists: ['kz', 'global'],
      filter: { categories: [], excludeCategories: [] },
      checkConnectivity: async () => [connectivity],
      chunkSize: 100,
      ...over,
    },
  };
}

describe('executeRun', () => {
  it('a core run: connectivity first, then the core list; everything stored, counted and summarised', async () => {
    const clock = new ManualClock(Date.UTC(2020, 11, 6, 9, 0));
    const calls: Target[][] = [];
    const { deps: d, stored, budget } = deps(tempDir(), { clock, limit: null, bytesPerTarget: 1000, calls });
    const run = await executeRun('core', 'schedule', d, new AbortController().signal);
    expect(run.outcome).toBe('completed');
    expect(run.lists).toEqual(['core']);
    expect(run.targets).toBe(CORE_TARGETS.length);
    expect(run.measured).toBe(CORE_TARGETS.length + 1);
    expect(stored).toHaveLength(CORE_TARGETS.length + 1);
    const first = decodeMeasurement(stored[0] ?? new Uint8Array());
    expect(first.ok && first.value.testName).toBe('connectivity');
    expect(run.verdicts).toEqual({ accessible: CORE_TARGETS.length - 1, interception: 1 });
    expect(run.anomalies).toEqual([{ url: 'https://www.facebook.com/', verdict: 'interception', blockingType: 'tls_mitm', failure: 'ssl_unknown_authority', confirmed: true }]);
    expect(run.connectivity).toEqual([{ url: 'http://127.0.0.1:1', role: 'control', reachable: false, failure: 'connection_refused' }]);
    expect(run.bytesMoved).toBe(CORE_TARGETS.length * 1000 + 120);
    expect(budget.usage().usedBytes).toBe(run.bytesMoved);
    expect(calls.map((c) => c.length)).toEqual([CORE_TARGETS.length]);
  });

  it('budget cap: a full run with the budget spent measures only the core list and says so', async () => {
    const clock = new ManualClock(Date.UTC(2020, 11, 20));
    const calls: Target[][] = [];
    const dir = tempDir();
    const { deps: d, budget } = deps(dir, { clock, limit: 50_000, bytesPerTarget: 1000, calls });
    budget.add(60_000);
    const run = await executeRun('full', 'schedule', d, new AbortController().signal);
    expect(run.limitedByBudget).toBe(true);
    expect(run.lists).toEqual(['core']);
    expect(calls.flat().every((t) => t.testList === 'core')).toBe(true);
    expect(calls.flat()).toHaveLength(CORE_TARGETS.length);
  });

  it('budget cap: spent in the middle of a full run, the rest of the full lists waits; next month the full run is whole again', async () => {
    const clock = new ManualClock(Date.UTC(2020, 11, 31, 12, 0));
    const calls: Target[][] = [];
    const dir = tempDir();
    // Core (18 targets) + 2 chunks of 100 = 218 targets * 1000 bytes = 218 kB: the limit is crossed after the second chunk.
    const { deps: d } = deps(dir, { clock, limit: 210_000, bytesPerTarget: 1000, calls });
    const run = await executeRun('full', 'schedule', d, new AbortController().signal);
    expect(run.limitedByBudget).toBe(true);
    expect(calls.map((c) => c.length)).toEqual([CORE_TARGETS.length, 100, 100]);
    expect(run.targets).toBe(CORE_TARGETS.length + 200);
    // The first of January: a fresh budget (fake clock across the month boundary).
    clock.set(Date.UTC(2021, 0, 1, 0, 5));
    calls.length = 0;
    const { deps: d2 } = deps(dir, { clock, limit: 210_000_000, bytesPerTarget: 1000, calls });
    const next = await executeRun('full', 'schedule', d2, new AbortController().signal);
    expect(next.limitedByBudget).toBe(false);
    expect(next.lists).toEqual(['core', 'kz', 'global']);
    expect(calls.flat().length).toBe(next.targets);
  });

  it('an abort stops between measurements and reports "aborted"; what was stored stays', async () => {
    const clock = new ManualClock(Date.UTC(2020, 11, 6));
    const calls: Target[][] = [];
    const controller = new AbortController();
    let seen = 0;
    const { deps: d, stored } = deps(tempDir(), {
      clock,
      limit: null,
      bytesPerTarget: 10,
      calls,
      onProgress: () => {
        seen += 1;
        if (seen === 5) controller.abort();
      },
    });
    const run = await executeRun('full', 'manual', d, controller.signal);
    expect(run.outcome).toBe('aborted');
    expect(run.measured).toBe(6); // connectivity + 5
    expect(stored).toHaveLength(6);
  });

  it('an engine that cannot run at all is a failed run, with the error', async () => {
    const clock = new ManualClock(Date.UTC(2020, 11, 6));
    const { deps: d } = deps(tempDir(), { clock, limit: null, bytesPerTarget: 10, calls: [] });
    const run = await executeRun('core', 'schedule', { ...d, measureTargets: async () => Promise.reject(new Error('measureTargets: concurrency must be an integer')) }, new AbortController().signal);
    expect(run.outcome).toBe('failed');
    expect(run.error).toMatch(/concurrency/);
    expect(run.measured).toBe(1);
  });
});
