import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decodeFrame, encodeFrame, generateSigningKeyPair, probeIdFromPublicKey, publicKeyFromRaw, sealBatch } from '@steppe/shared';
import type { IncomingBatch } from 'steppe-collector';
import { RawSqlite } from './raw-sqlite.js';
import { MeasurementTemplates } from './templates.js';

// The collector's ingest work per measurement, stage by stage, without
// sockets or load generators sharing the CPU: the same signed Frames of
// realistic measurements a probe sends (1,000 probes, --batch each), then
//   verify    decodeFrame + verifyBatch (signature, digests, decode, checks)
//   store     SqliteStore.commitBatches of verified batches, --group
//             measurements per transaction (what the group committer does)
//   pipeline  both, as ingest interleaves them: verify a group's frames, commit
//   raw       the same rows (columns + compact bytes) as plain INSERTs into an
//             index-free table, 5,000 per transaction (raw-sqlite.ts)
// CPU µs per measurement (process CPU time: robust on a shared machine),
// wall rate, and GC time. Files in --dir, WAL, synchronous=FULL. Usage:
//   node bench/dist/bench/ingest/stages.js --rows 60000 --group 5000
type Ingest = typeof import('../../collector/src/ingest/index.js');
type Store = typeof import('../../collector/src/store/sqlite-store.js');
const root = new URL('../../../../', import.meta.url);
const { verifyBatch } = (await import(new URL('collector/dist/ingest/index.js', root).href)) as Ingest;
const { openSqliteStore } = (await import(new URL('collector/dist/store/sqlite-store.js', root).href)) as Store;

const { values } = parseArgs({ options: {
  rows: { type: 'string', default: '60000' }, batch: { type: 'string', default: '50' }, group: { type: 'string', default: '5000' },
  probes: { type: 'string', default: '1000' }, dir: { type: 'string' }, only: { type: 'string', default: 'verify,store,pipeline,raw' },
} });
const rows = Number(values.rows);
const batchSize = Number(values.batch);
const group = Number(values.group);
const only = new Set((values.only ?? '').split(','));
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'steppe-bench-stages-'));

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const network = { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' };
const probes = Array.from({ length: Number(values.probes) }, () => {
  const keys = generateSigningKeyPair();
  return { keys, probeId: probeIdFromPublicKey(keys.publicKey), publicKey: publicKeyFromRaw(keys.publicKey), seq: 0 };
});
const templates = new MeasurementTemplates(200, 1);
interface WireBatch { readonly probe: (typeof probes)[number]; readonly frame: Buffer }
const frames: WireBatch[] = [];
for (let made = 0, b = 0; made < rows; b += 1) {
  const probe = probes[b % probes.length];
  if (probe === undefined) throw new Error('no probe');
  const now = Date.now();
  const ms = Array.from({ length: batchSize }, () => templates.make((made += 1), probe.probeId, now - 1_000));
  probe.seq += 1;
  frames.push({ probe, frame: Buffer.from(encodeFrame({ batch: sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence: probe.seq, createdMs: now, measurements: ms }) })) });
}
const total = frames.length * batchSize;
const out: Record<string, unknown> = { rows: total, batch: batchSize, group };

function verify(w: WireBatch): IncomingBatch {
  const d = decodeFrame(w.frame);
  if (!d.ok || d.value.batch == null) throw new Error('bad frame');
  const r = verifyBatch(d.value.batch, { probeId: w.probe.probeId, publicKey: w.probe.publicKey, network }, 500, Date.now());
  if (!r.ok) throw r.error;
  return r.batch;
}

async function measure(name: string, body: () => void | Promise<void>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50)); // earlier GC entries delivered
  gcMs = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await body();
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((resolve) => setTimeout(resolve, 50)); // this stage's GC entries delivered
  out[`${name}_per_s`] = Math.round(total / s);
  out[`${name}_cpu_us`] = +((cpu.user + cpu.system) / total).toFixed(1);
  out[`${name}_gc_us`] = +((gcMs * 1000) / total).toFixed(1);
}

async function freshStore(name: string): ReturnType<typeof openSqliteStore> {
  const store = await openSqliteStore(join(dir, name));
  for (const p of probes) await store.registerProbe(p.probeId, p.keys.publicKey, Date.now(), network);
  return store;
}

const batchesPerGroup = Math.max(1, Math.floor(group / batchSize));
if (only.has('verify')) await measure('verify', () => { for (const w of frames) verify(w); });

let verified: IncomingBatch[] = [];
if (only.has('store') || only.has('raw')) verified = frames.map(verify);
if (only.has('store')) {
  const store = await freshStore('store.sqlite');
  // The writer thread's CPU counts: process CPU time covers every thread.
  await measure('store', async () => {
    for (let i = 0; i < verified.length; i += batchesPerGroup) await store.commitBatches(verified.slice(i, i + batchesPerGroup));
  });
  await store.close();
}
if (only.has('raw')) {
  const raw = new RawSqlite(join(dir, 'raw.sqlite'), 'compact');
  out['raw_per_s'] = Math.round(raw.measure(verified, 5_000));
  raw.close();
}
verified = [];
if (only.has('pipeline')) {
  const store = await freshStore('pipeline.sqlite');
  // As ingest does: the next group is verified while the writer thread commits this one.
  await measure('pipeline', async () => {
    let committing: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < frames.length; i += batchesPerGroup) {
      const group = frames.slice(i, i + batchesPerGroup).map(verify);
      await committing;
      committing = store.commitBatches(group);
    }
    await committing;
  });
  await store.close();
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(out)}\n`);
