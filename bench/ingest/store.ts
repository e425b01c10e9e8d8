import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeMeasurement, generateSigningKeyPair, probeIdFromPublicKey, sealBatch } from '@steppe/shared';
import { type IncomingBatch, openSqliteStore } from 'steppe-collector';
import { RawSqlite } from './raw-sqlite.js';
import { MeasurementTemplates } from './templates.js';

// The write path alone, no sockets: the same signed, decoded batches of
// realistic measurements (1,000 probes, --batch each) committed
//   raw    plain INSERTs of the same rows (queryable columns + signed bytes)
//          into a table with no secondary index, --per-tx rows per transaction
//   store  SqliteStore.commitBatches, --group batches per transaction
// Both on files in --dir, WAL, synchronous=FULL. Prints one JSON line.
//   node bench/dist/bench/ingest/store.js --rows 100000 --group 64
const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '100000' }, batch: { type: 'string', default: '50' }, group: { type: 'string', default: '64' },
  'per-tx': { type: 'string', default: '5000' }, probes: { type: 'string', default: '1000' }, dir: { type: 'string' },
  only: { type: 'string', default: 'raw,store' },
} });
const rows = Number(values.rows);
const batchSize = Number(values.batch);
const group = Number(values.group);
const probeCount = Number(values.probes);
const only = new Set((values.only ?? '').split(','));
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'steppe-bench-store-'));

const probes = Array.from({ length: probeCount }, () => {
  const keys = generateSigningKeyPair();
  return { keys, probeId: probeIdFromPublicKey(keys.publicKey), seq: 0 };
});
const network = { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' };
const templates = new MeasurementTemplates(200, 1);
const batches: IncomingBatch[] = [];
for (let made = 0, b = 0; made < rows; b += 1) {
  const probe = probes[b % probes.length];
  if (probe === undefined) throw new Error('no probe');
  const now = Date.now();
  const ms = Array.from({ length: batchSize }, () => templates.make((made += 1), probe.probeId, now - 1_000));
  probe.seq += 1;
  const sealed = sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence: probe.seq, createdMs: now, measurements: ms });
  batches.push({
    probeId: probe.probeId, sequence: probe.seq, header: sealed.header as Uint8Array, signature: sealed.signature as Uint8Array,
    receivedMs: now, network,
    measurements: ms.map((raw) => {
      const d = decodeMeasurement(raw);
      if (!d.ok) throw d.error;
      return { id: d.value.id, raw, decoded: d.value };
    }),
  });
}
const total = batches.length * batchSize;
const out: Record<string, unknown> = { rows: total, batch: batchSize, group, per_tx: Number(values['per-tx']) };

if (only.has('raw')) {
  const raw = new RawSqlite(join(dir, 'raw.sqlite'));
  out['raw_rows_per_s'] = Math.round(raw.measure(batches, Number(values['per-tx'])));
  raw.close();
}

if (only.has('store')) {
  const store = openSqliteStore(join(dir, 'store.sqlite'));
  for (const p of probes) store.registerProbe(p.probeId, p.keys.publicKey, Date.now(), network);
  const t0 = performance.now();
  let stored = 0;
  for (let i = 0; i < batches.length; i += group) {
    for (const r of store.commitBatches(batches.slice(i, i + group))) stored += r.stored.length;
  }
  const s = (performance.now() - t0) / 1000;
  store.close();
  if (stored !== total) throw new Error(`stored ${stored} of ${total}`);
  out['store_rows_per_s'] = Math.round(total / s);
  out['store_commits_per_s'] = Math.round(batches.length / group / s);
  // Resending everything: all duplicates.
}
if (out['raw_rows_per_s'] !== undefined && out['store_rows_per_s'] !== undefined) {
  out['store_over_raw'] = +((out['store_rows_per_s'] as number) / (out['raw_rows_per_s'] as number)).toFixed(2);
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(out)}\n`);
