import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ManualClock } from '@steppe/shared';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProbeDaemon, type UplinkPort } from '../../src/daemon/daemon.js';
import { JsonLog } from '@steppe/shared';
import { RunHistory, type RunRecord } from '../../src/daemon/run-history.js';
import type { RunKind } from '../../src/schedule/run-gate.js';
import { ManualScheduler } from '../../src/schedule/scheduler.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function record(kind: RunKind, startedAtMs: number, outcome: RunRecord['outcome'] = 'completed'): RunRecord {
  return {
    id: `run-${startedAtMs}`,
    kind,
    trigger: 'schedule',
    startedAtMs,
    finishedAtMs: startedAtMs + 1000,
    outcome,
    lists: kind === 'core' ? ['core'] : ['core', 'kz', 'global'],
    testListVersion: 'v',
    targets: 3,
    measured: 4,
    verdicts: { accessible: 2, dns: 1 },
    anomalies: [{ url: 'https://www.facebook.com/', verdict: 'dns', blockingType: 'dns_injection', failure: '', confirmed: false }],
    bytesMoved: 1234,
    limitedByBudget: false,
    connectivity: [{ url: 'http://127.0.0.1:1', role: 'control', reachable: true, failure: '' }],
  };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'steppe-daemon-'));
  dirs.push(dir);
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const clock = new ManualClock(Date.UTC(2020, 11, 6, 9, 0));
  const log = new JsonLog(out, { clock, scrubForms: () => ['203.0.113.77'] });
  const scheduler = new ManualScheduler();
  const runs: { kind: RunKind; signal: AbortSignal; finish: (r?: RunRecord['outcome']) => void }[] = [];
  const uplink = { started: 0, flushed: 0, closed: 0 };
  const uplinkPort: UplinkPort = {
    start: () => void (uplink.started += 1),
    flush: async () => {
      uplink.flushed += 1;
      return { acked: 3, pending: 1 };
    },
    close: async () => void (uplink.closed += 1),
  };
  const history = new RunHistory(dir);
  const daemon = new ProbeDaemon({
    schedule: { coreCron: '*/15 * * * *', fullCron: '0 */6 * * *', maxJitterSeconds: 300, timezone: 'UTC' },
    scheduler,
    run: (kind, signal) =>
      new Promise<RunRecord>((resolve) => {
        const startedAt = clock.now();
        runs.push({ kind, signal, finish: (outcome = 'completed') => resolve(record(kind, startedAt, outcome)) });
        signal.addEventListener('abort', () => resolve(record(kind, startedAt, 'aborted')), { once: true });
      }),
    history,
    log,
    uplink: uplinkPort,
    random: () => 0.5,
    clock,
  });
  const lines = (): Record<string, unknown>[] => text.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { daemon, scheduler, runs, uplink, history, lines, text: () => text };
}

describe('ProbeDaemon (fake timers, manual cron)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('schedules core every 15 min and full every 6 h, starts the uplink', () => {
    const { daemon, scheduler, uplink } = setup();
    daemon.start();
    expect(scheduler.jobs()).toEqual([
      { name: 'core', cron: '*/15 * * * *' },
      { name: 'full', cron: '0 */6 * * *' },
    ]);
    expect(uplink.started).toBe(1);
  });

  it('runs after the random delay, never two at once, records each run, logs JSON lines', async () => {
    const { daemon, scheduler, runs, history, lines } = setup();
    daemon.start();
    scheduler.fire('core', Date.UTC(2020, 11, 6, 9, 0));
    await vi.advanceTimersByTimeAsync(149_999);
    expect(runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.map((r) => r.kind)).toEqual(['core']);
    // Still running at the next tick: skipped and logged.
    scheduler.fire('core', Date.UTC(2020, 11, 6, 9, 15));
    await vi.advanceTimersByTimeAsync(300_000);
    expect(runs).toHaveLength(1);
    runs[0]?.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(history.list().map((r) => r.kind)).toEqual(['core']);
    scheduler.fire('full', Date.UTC(2020, 11, 6, 12, 0));
    scheduler.fire('core', Date.UTC(2020, 11, 6, 12, 0));
    await vi.advanceTimersByTimeAsync(150_000);
    expect(runs.map((r) => r.kind)).toEqual(['core', 'full']);
    runs[1]?.finish();
    await vi.advanceTimersByTimeAsync(0);

    const all = lines();
    for (const line of all) {
      expect(Object.keys(line).slice(0, 3)).toEqual(['time', 'level', 'event']);
      expect(typeof line['time']).toBe('string');
    }
    const events = all.map((l) => l['event']);
    expect(events).toEqual([
      'daemon_started',
      'run_scheduled',
      'run_started',
      'run_skipped',
      'run_finished',
      'run_scheduled',
      'run_skipped',
      'run_started',
      'run_finished',
    ]);
    expect(all.find((l) => l['event'] === 'run_skipped')).toMatchObject({ level: 'warn', kind: 'core', reason: 'run_in_progress' });
    expect(all.find((l) => l['event'] === 'run_scheduled')).toMatchObject({ kind: 'core', delay_ms: 150_000 });
    expect(all.find((l) => l['event'] === 'run_finished')).toMatchObject({ kind: 'core', outcome: 'completed', measured: 4, anomalies: 1, bytes_moved: 1234, verdicts: { accessible: 2, dns: 1 } });
  });

  it('stop (SIGTERM): stops scheduling, lets a short run finish, flushes and closes the uplink', async () => {
    const { daemon, scheduler, runs, uplink, history, lines } = setup();
    daemon.start();
    scheduler.fire('core', 0);
    await vi.advanceTimersByTimeAsync(150_000);
    const stopping = daemon.stop();
    await vi.advanceTimersByTimeAsync(1000);
    runs[0]?.finish();
    await vi.advanceTimersByTimeAsync(0);
    await stopping;
    expect(runs[0]?.signal.aborted).toBe(false);
    expect(history.list()[0]?.outcome).toBe('completed');
    expect(uplink).toMatchObject({ flushed: 1, closed: 1 });
    scheduler.fire('core', 1);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(runs).toHaveLength(1);
    const events = lines().map((l) => l['event']);
    expect(events.slice(-4)).toEqual(['daemon_stopping', 'run_finished', 'upload_flushed', 'daemon_stopped']);
    expect(daemon.stop()).toBe(stopping); // a second signal waits for the same stop
  });

  it('stop: a long run is abandoned cleanly after the grace period and recorded as aborted', async () => {
    const { daemon, scheduler, runs, history, lines } = setup();
    daemon.start();
    scheduler.fire('full', 0);
    await vi.advanceTimersByTimeAsync(150_000);
    const stopping = daemon.stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs[0]?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    await stopping;
    expect(history.list()[0]?.outcome).toBe('aborted');
    expect(lines().map((l) => l['event'])).toContain('run_abandoned');
  });

  it('stop: a run waiting its random delay is cancelled', async () => {
    const { daemon, scheduler, runs } = setup();
    daemon.start();
    scheduler.fire('core', 0);
    await daemon.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(runs).toHaveLength(0);
  });
});

describe('JsonLog', () => {
  it('one JSON object per line; the probe address and IPs in error text never appear', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const log = new JsonLog(out, { clock: new ManualClock(Date.UTC(2020, 11, 6)), level: 'info', scrubForms: () => ['203.0.113.77', '203-0-113-77'] });
    log.debug('hidden', {});
    log.warn('uplink_error', { collector: 'https://c.example', error: 'connect ECONNREFUSED 198.51.100.9:443 from 203.0.113.77', note: 'host-203-0-113-77.example', list: ['203.0.113.77'] });
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line).toEqual({
      time: '2020-12-06T00:00:00.000Z',
      level: 'warn',
      event: 'uplink_error',
      collector: 'https://c.example',
      error: 'connect ECONNREFUSED [scrubbed]:443 from [scrubbed]',
      note: 'host-[scrubbed].example',
      list: ['[scrubbed]'],
    });
  });
});
