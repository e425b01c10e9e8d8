import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type GateEvent, RunGate, type RunKind } from '../../src/schedule/run-gate.js';
import { ManualScheduler, NodeCronScheduler } from '../../src/schedule/scheduler.js';

/** A run that finishes when told to (or when aborted). */
function controllableRuns() {
  const started: { kind: RunKind; finish: () => void; signal: AbortSignal }[] = [];
  const run = (kind: RunKind, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      started.push({ kind, finish: resolve, signal });
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  return { started, run };
}

describe('RunGate: jitter and no overlap (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits a random delay in [0, maxJitter) before each run', async () => {
    const { started, run } = controllableRuns();
    const events: GateEvent[] = [];
    const gate = new RunGate({ maxJitterMs: 300_000, random: () => 0.5, run, onEvent: (e) => events.push(e) });
    expect(gate.trigger('core', 0)).toBe('scheduled');
    expect(events[0]).toEqual({ type: 'scheduled', kind: 'core', firedAtMs: 0, delayMs: 150_000 });
    await vi.advanceTimersByTimeAsync(149_999);
    expect(started).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(started.map((s) => s.kind)).toEqual(['core']);
    started[0]?.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(gate.busy).toBe(false);
    expect(events.map((e) => e.type)).toEqual(['scheduled', 'started', 'finished']);
  });

  it('delays differ between probes: the delay comes from the random source, bounded by maxJitter', () => {
    const delays: number[] = [];
    for (const r of [0, 0.25, 0.999_999_9, 1]) {
      const gate = new RunGate({ maxJitterMs: 1000, random: () => r, run: async () => {}, onEvent: (e) => e.type === 'scheduled' && delays.push(e.delayMs) });
      gate.trigger('core', 0);
    }
    expect(delays).toEqual([0, 250, 999, 999]);
    expect(Math.max(...delays)).toBeLessThan(1000);
  });

  it('a tick while a run is in progress is skipped and reported, never run alongside', async () => {
    const { started, run } = controllableRuns();
    const events: GateEvent[] = [];
    const gate = new RunGate({ maxJitterMs: 0, run, onEvent: (e) => events.push(e) });
    gate.trigger('full', 0);
    await vi.advanceTimersByTimeAsync(0);
    expect(started.map((s) => s.kind)).toEqual(['full']);
    // The 15-minute core ticks come while the long full run goes on.
    expect(gate.trigger('core', 900_000)).toBe('skipped');
    expect(gate.trigger('core', 1_800_000)).toBe('skipped');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(started).toHaveLength(1);
    expect(events.filter((e) => e.type === 'skipped')).toEqual([
      { type: 'skipped', kind: 'core', firedAtMs: 900_000, reason: 'run_in_progress' },
      { type: 'skipped', kind: 'core', firedAtMs: 1_800_000, reason: 'run_in_progress' },
    ]);
    started[0]?.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(gate.trigger('core', 2_700_000)).toBe('scheduled');
    await vi.advanceTimersByTimeAsync(0);
    expect(started.map((s) => s.kind)).toEqual(['full', 'core']);
  });

  it('a core tick during the delay of a pending run is skipped; a full tick upgrades a pending core run', async () => {
    const { started, run } = controllableRuns();
    const events: GateEvent[] = [];
    const gate = new RunGate({ maxJitterMs: 60_000, random: () => 0.5, run, onEvent: (e) => events.push(e) });
    gate.trigger('core', 0);
    expect(gate.trigger('core', 0)).toBe('skipped');
    expect(gate.trigger('full', 0)).toBe('upgraded'); // :00 — both crons fire together
    expect(gate.trigger('full', 0)).toBe('skipped');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(started.map((s) => s.kind)).toEqual(['full']);
    expect(events.filter((e) => e.type === 'skipped').map((e) => (e as { reason: string }).reason)).toEqual(['run_pending', 'run_pending']);
  });

  it('a failing run is reported and does not block the next one', async () => {
    const events: GateEvent[] = [];
    let calls = 0;
    const gate = new RunGate({
      maxJitterMs: 0,
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error('disk full');
      },
      onEvent: (e) => events.push(e),
    });
    gate.trigger('core', 0);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.find((e) => e.type === 'failed')).toMatchObject({ type: 'failed', kind: 'core' });
    gate.trigger('core', 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
  });

  it('stop(): cancels a pending run and refuses new ticks', async () => {
    const { started, run } = controllableRuns();
    const gate = new RunGate({ maxJitterMs: 60_000, random: () => 0.9, run });
    gate.trigger('core', 0);
    await gate.stop({ finishGraceMs: 1000, abandonWaitMs: 1000 });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(started).toHaveLength(0);
    expect(gate.trigger('core', 1)).toBe('skipped');
  });

  it('stop(): a run that finishes within the grace period is left to finish', async () => {
    const { started, run } = controllableRuns();
    const gate = new RunGate({ maxJitterMs: 0, run });
    gate.trigger('core', 0);
    await vi.advanceTimersByTimeAsync(0);
    const stopped = gate.stop({ finishGraceMs: 5000, abandonWaitMs: 5000 });
    await vi.advanceTimersByTimeAsync(1000);
    started[0]?.finish();
    await stopped;
    expect(started[0]?.signal.aborted).toBe(false);
  });

  it('stop(): a run still going after the grace period is aborted and awaited', async () => {
    const { started, run } = controllableRuns();
    const events: GateEvent[] = [];
    const gate = new RunGate({ maxJitterMs: 0, run, onEvent: (e) => events.push(e) });
    gate.trigger('full', 0);
    await vi.advanceTimersByTimeAsync(0);
    let done = false;
    const stopped = gate.stop({ finishGraceMs: 3000, abandonWaitMs: 3000 }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(2999);
    expect(started[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(started[0]?.signal.aborted).toBe(true);
    await stopped;
    expect(done).toBe(true);
    expect(events.map((e) => e.type)).toContain('abandoning');
    expect(gate.busy).toBe(false);
  });

  it('stop(): a run that ignores the abort is given up on after abandonWaitMs', async () => {
    const gate = new RunGate({ maxJitterMs: 0, run: () => new Promise<void>(() => {}) });
    gate.trigger('core', 0);
    await vi.advanceTimersByTimeAsync(0);
    const stopped = gate.stop({ finishGraceMs: 100, abandonWaitMs: 100 });
    await vi.advanceTimersByTimeAsync(200);
    await expect(stopped).resolves.toBeUndefined();
  });
});

describe('schedulers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ManualScheduler fires only live jobs of that name', () => {
    const s = new ManualScheduler();
    const fired: number[] = [];
    const job = s.schedule('core', '*/15 * * * *', (at) => fired.push(at));
    s.schedule('full', '0 */6 * * *', () => fired.push(-1));
    expect(s.fire('core', 42)).toBe(1);
    job.stop();
    expect(s.fire('core', 43)).toBe(0);
    expect(fired).toEqual([42]);
    expect(s.jobs()).toEqual([{ name: 'full', cron: '0 */6 * * *' }]);
  });

  it('NodeCronScheduler fires on the cron expression (node-cron 4, fake timers)', async () => {
    vi.useFakeTimers({ now: Date.UTC(2020, 11, 6, 8, 59, 30) });
    const fired: number[] = [];
    const job = new NodeCronScheduler().schedule('core', '*/15 * * * *', (at) => fired.push(at), { timezone: 'UTC' });
    await vi.advanceTimersByTimeAsync(31_000);
    expect(fired.map((t) => new Date(t).toISOString())).toEqual(['2020-12-06T09:00:00.000Z']);
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(fired.map((t) => new Date(t).toISOString())).toEqual(['2020-12-06T09:00:00.000Z', '2020-12-06T09:15:00.000Z']);
    job.stop();
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(fired).toHaveLength(2);
  });

  it('NodeCronScheduler refuses a bad expression', () => {
    expect(() => new NodeCronScheduler().schedule('core', 'every minute', () => {}, { timezone: 'UTC' })).toThrow(/not a cron expression/);
  });
});
