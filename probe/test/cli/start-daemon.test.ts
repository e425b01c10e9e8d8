import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_HISTORY_FILE_NAME } from '../../src/daemon/run-history.js';
import { fakeCollector, labConfig, ME, probe, tempDataDir } from './helpers.js';

// Spawns the built CLI (npx tsc -b first): a real process, a real SIGTERM.
const BIN = fileURLToPath(new URL('../../bin/steppe-probe.js', import.meta.url));

let collector: Awaited<ReturnType<typeof fakeCollector>>;
const data = tempDataDir();
beforeAll(async () => {
  collector = await fakeCollector();
});
afterAll(async () => {
  await collector.close();
  data.cleanup();
});

describe('steppe-probe start (spawned)', () => {
  it('runs on schedule, logs one JSON object per line, and stops cleanly on SIGTERM (exit 0)', async () => {
    labConfig(data.dir, { collectors: ['http://127.0.0.1:1'], control: collector.url, urls: [collector.pageUrl] });
    expect((await probe(['init', '--data-dir', data.dir, '--accept-risks'])).code).toBe(0);

    const child = spawn(process.execPath, [BIN, 'start', '--data-dir', data.dir, '--run-now'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const finishedRun = new Promise<void>((resolve) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('"event":"run_finished"')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await Promise.race([finishedRun, exited.then(() => Promise.reject(new Error(`exited early: ${err}`)))]);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }

    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of lines) {
      expect(Object.keys(line).slice(0, 3)).toEqual(['time', 'level', 'event']);
      expect(new Date(String(line['time'])).toISOString()).toBe(line['time']);
    }
    const events = lines.map((l) => l['event']);
    expect(events[0]).toBe('probe_started');
    expect(events).toEqual(expect.arrayContaining(['daemon_started', 'run_scheduled', 'run_started', 'run_finished', 'signal_received', 'daemon_stopping', 'daemon_stopped']));
    expect(events.at(-1)).toBe('daemon_stopped');
    expect(lines.find((l) => l['event'] === 'run_finished')).toMatchObject({ kind: 'core', outcome: 'completed', targets: 1, collector_reachable: true });
    expect(out).not.toContain(ME);
    expect(err).toBe('');
    const runs = JSON.parse(readFileSync(join(data.dir, RUN_HISTORY_FILE_NAME), 'utf8')) as { trigger: string }[];
    expect(runs[0]?.trigger).toBe('schedule');
  });
});
