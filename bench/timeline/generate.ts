import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openSqliteStore } from 'steppe-collector';
import { batches, plan } from './synthetic.js';

// Fill a database with synthetic measurements through the store's commit path
// (one transaction per round of all probes). Usage:
//   node bench/dist/bench/timeline/generate.js --db /tmp/steppe-bench/bench.db --count 10000000
const { values } = parseArgs({ options: {
  db: { type: 'string', default: '/tmp/steppe-bench/bench.db' },
  count: { type: 'string', default: '10000000' },
  probes: { type: 'string', default: '300' },
  days: { type: 'string', default: '30' },
  seed: { type: 'string', default: '2020' },
} });
const count = Number(values.count);
const start = Date.UTC(2020, 11, 1);
const p = plan(count, Number(values.days), start, Number(values.probes), Number(values.seed));
const store = await openSqliteStore(values.db);
for (const probe of p.probes) await store.registerProbe(probe.probeId, probe.keys.publicKey, start, probe.network);
let done = 0;
let commitMs = 0;
let lastReport = 0;
const t0 = performance.now();
for (const group of batches(p, count, Number(values.seed))) {
  const c0 = performance.now();
  const results = await store.commitBatches(group);
  commitMs += performance.now() - c0;
  for (const r of results) done += r.stored.length;
  if (done - lastReport >= 500_000 || done >= count) {
    lastReport = done;
    const wall = (performance.now() - t0) / 1000;
    process.stdout.write(`${done} stored, ${Math.round(done / wall)}/s overall, ${Math.round(done / (commitMs / 1000))}/s inside commitBatches\n`);
  }
}
await store.close();
const size = (f: string): number => { try { return statSync(f).size; } catch { return 0; } };
const bytes = size(values.db) + size(`${values.db}-wal`);
process.stdout.write(`done: ${done} measurements, ${(bytes / 2 ** 30).toFixed(2)} GiB, ${Math.round(bytes / done)} B/measurement, commit ${Math.round(done / (commitMs / 1000))}/s\n`);
