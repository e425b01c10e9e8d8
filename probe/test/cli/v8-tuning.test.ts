import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeV8Flags } from '../../src/cli/v8-tuning.js';

const none = { execArgv: [], nodeOptions: undefined };

describe('the V8 flags the probe sets for itself', () => {
  it('runs WebAssembly on the baseline compiler for every command; the daemon also favours memory over speed', () => {
    expect(probeV8Flags('measure', none)).toEqual(['--liftoff-only']);
    expect(probeV8Flags(undefined, none)).toEqual(['--liftoff-only']);
    expect(probeV8Flags('start', none)).toEqual(['--liftoff-only', '--optimize-for-size', '--semi-space-growth-factor=1']);
  });

  it('leaves the young generation alone when the user sized it (NODE_OPTIONS or node flags)', () => {
    expect(probeV8Flags('start', { execArgv: [], nodeOptions: '--max-semi-space-size=1' })).toEqual(['--liftoff-only', '--optimize-for-size']);
    expect(probeV8Flags('start', { execArgv: ['--max_semi_space_size=8'], nodeOptions: '' })).toEqual(['--liftoff-only', '--optimize-for-size']);
    expect(probeV8Flags('start', { execArgv: ['--enable-source-maps'], nodeOptions: '--trace-warnings' })).toEqual(['--liftoff-only', '--optimize-for-size', '--semi-space-growth-factor=1']);
  });

  it('keeps the young generation at its initial size once applied at run time (V8 accepts and reads the flag)', () => {
    // A fresh node: surviving allocations make V8 grow the new space
    // (to 32 MiB by default) unless the growth factor is 1. Built module: run `npx tsc -b` first.
    const tuning = fileURLToPath(new URL('../../dist/cli/v8-tuning.js', import.meta.url));
    const script = (apply: boolean): string => `
      const { tuneV8ForProbe } = await import(${JSON.stringify(tuning)});
      const v8 = await import('node:v8');
      if (${apply}) tuneV8ForProbe('start');
      const kept = [];
      let peak = 0;
      for (let round = 0; round < 60; round += 1) {
        const batch = [];
        for (let i = 0; i < 20000; i += 1) batch.push({ i, s: 'x' + i, a: [i] });
        kept.push(batch);
        if (kept.length > 4) kept.shift();
        await new Promise((resolve) => setImmediate(resolve));
        peak = Math.max(peak, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
      }
      process.stdout.write(String(peak / 2 ** 20));
    `;
    const newSpaceMiB = (apply: boolean): number =>
      Number(execFileSync(process.execPath, ['--input-type=module', '-e', script(apply)], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));
    expect(newSpaceMiB(true)).toBeLessThanOrEqual(2);
    expect(newSpaceMiB(false)).toBeGreaterThan(2);
  });
});
