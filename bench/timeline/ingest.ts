import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type IncomingBatch, openSqliteStore } from 'steppe-collector';
import { batches, plan } from './synthetic.js';

// Ingest rate of the store alone: batches are made first, in memory, then
// committed `--group` batches per transaction (ingest groups batches that
// arrive together; one fsync per transaction). Usage:
//   node bench/dist/bench/timeline/ingest.js --db /tmp/steppe-bench/ingest.db --count 60000 --group 20
const { values } = parseArgs({ options: {
  db: { type: 'string', default: '/tmp/steppe-bench/ingest.db' },
  count: { type: 'string', default: '60000' },
  group: { type: 'string', default: '20' },
} });
const count = Number(values.count);
const group = Number(values.group);
rmSync(values.db, { force: true });
rmSync(`${values.db}-wal`, { force: true });
rmSync(`${values.db}-shm`, { force: true });
const start = Date.UTC(2020, 11, 1);
// Dense: 300 probes × 60 domains every ~78 minutes, as in the 10 M database.
const p = plan(count, count / 10_000_000 * 30, start, 300, 7);
const all: IncomingBatch[] = [];
for (const g of batches(p, count, 7)) all.push(...g);
const store = await openSqliteStore(values.db);
for (const probe of p.probes) await store.registerProbe(probe.probeId, probe.keys.publicKey, start, probe.network);
let stored = 0;
const t0 = performance.now();
for (let i = 0; i < all.length; i += group) {
  for (const r of await store.commitBatches(all.slice(i, i + group))) stored += r.stored.length;
}
const seconds = (performance.now() - t0) / 1000;
await store.close();
const perBatch = count / all.length;
process.stdout.write(`${stored} measurements in ${all.length} batches (${perBatch.toFixed(0)}/batch), ${group} batches per commit: ${Math.round(stored / seconds)} measurements/s, ${Math.round(all.length / group / seconds)} commits/s\n`);
