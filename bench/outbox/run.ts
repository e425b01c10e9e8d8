import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { newId } from '@steppe/shared';
import { Outbox } from 'steppe-probe';

// bench/outbox: what one enqueue costs as the probe's outbox fills (a long
// shutdown keeps measurements queued for weeks). The size cap reads running
// totals, so the cost should not grow with the queue. Usage (after the bench
// build, see bench/README.md):
//   node bench/dist/bench/outbox/run.js --rows 100000 --size 2500
const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '100000' },
  size: { type: 'string', default: '2500' },
  samples: { type: 'string', default: '200' },
} });
const rows = Number(values.rows);
const size = Number(values.size);
const samples = Number(values.samples);

const dir = mkdtempSync(join(tmpdir(), 'steppe-bench-outbox-'));
try {
  const outbox = Outbox.open(join(dir, 'outbox.sqlite'), { maxBytes: 2 ** 40 });
  const bytes = new Uint8Array(size).fill(3);
  let startMs = Date.UTC(2026, 0, 1);
  const fill = (count: number): void => {
    for (let done = 0; done < count; done += 1000) {
      const items = Array.from({ length: Math.min(1000, count - done) }, () => {
        startMs += 1000;
        return { id: newId(startMs), startTimeMs: startMs, bytes };
      });
      outbox.enqueueMany(items);
    }
  };
  let queued = 0;
  for (const target of [1_000, 10_000, rows].filter((n, i, all) => n <= rows && all.indexOf(n) === i)) {
    fill(target - queued);
    queued = target;
    const times: number[] = [];
    for (let i = 0; i < samples; i += 1) {
      startMs += 1000;
      const t0 = process.hrtime.bigint();
      outbox.enqueue(bytes, { id: newId(startMs), startTimeMs: startMs });
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    queued += samples;
    times.sort((a, b) => a - b);
    const at = (q: number): string => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(2);
    process.stdout.write(`${target} queued (${((target * size) / 2 ** 20).toFixed(0)} MiB): enqueue one, durable: median ${at(0.5)} ms, p95 ${at(0.95)} ms\n`);
  }
  outbox.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
