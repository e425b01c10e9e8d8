import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { decodeMeasurement, generateSigningKeyPair, probeIdFromPublicKey, sealBatch } from '@steppe/shared';
import { MeasurementTemplates } from './templates.js';

// bench/ingest: one collector process (ingest + SqliteStore on a temp file),
// --probes simulated probes spread over --workers load-generator processes,
// signed batches of realistic measurements. Reports sustained measurements/s,
// p50/p99 send→Ack, the collector's peak RSS and CPU, then the raw rate of
// committing the same rows to a fresh SqliteStore in large transactions, and
// the ratio. Usage (after `npm run build` and the bench build, RESULTS.md):
//   node bench/dist/bench/ingest/run.js --probes 1000 --workers 2 --rate 0
type Store = typeof import('../../collector/src/store/sqlite-store.js');
const root = new URL('../../../../', import.meta.url);

const { values } = parseArgs({ options: {
  probes: { type: 'string', default: '1000' }, workers: { type: 'string', default: '2' }, batch: { type: 'string', default: '50' },
  'in-flight': { type: 'string', default: '2' }, rate: { type: 'string', default: '0' }, 'duration-ms': { type: 'string', default: '15000' },
  'warmup-ms': { type: 'string', default: '3000' }, 'group-max': { type: 'string', default: '64' }, 'raw-rows': { type: 'string', default: '200000' },
  deflate: { type: 'boolean', default: false },
} });
const dir = mkdtempSync(join(tmpdir(), 'steppe-bench-ingest-'));
const here = new URL('.', import.meta.url);

const collector = spawn(process.execPath, [new URL('collector.js', here).pathname, '--db', join(dir, 'ingest.sqlite'), '--group-max', values['group-max'] ?? '64', ...(values.deflate ? [] : ['--no-deflate'])], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await firstLine(collector, /LISTENING (\d+)/);
const stats = (): Promise<Record<string, number>> => new Promise((resolve) => {
  collector.once('message', (m) => resolve(m as Record<string, number>));
  collector.send('stats');
});

const workers = Number(values.workers);
const perWorker = Math.ceil(Number(values.probes) / workers);
const children = Array.from({ length: workers }, (_, w) => spawn(process.execPath, [new URL('probe-worker.js', here).pathname,
  '--url', `ws://127.0.0.1:${port}`, '--probes', String(perWorker), '--batch', values.batch ?? '50', '--in-flight', values['in-flight'] ?? '2',
  '--rate', String(Number(values.rate) / workers), '--duration-ms', values['duration-ms'] ?? '15000', '--warmup-ms', values['warmup-ms'] ?? '3000',
  '--host', `127.0.${10 + w}.1`, '--seed', String(w + 1), ...(values.deflate ? ['--deflate'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] }));
await Promise.all(children.map((c) => firstLine(c, /READY/)));
const before = await stats();
const results = await Promise.all(children.map((c) => {
  const done = firstLine(c, /^(\{.*\})$/);
  c.stdin?.write('go\n');
  return done.then((line) => JSON.parse(line) as { acked: number; elapsedMs: number; p50: number; p99: number; errors: number; latencies: number[] });
}));
const after = await stats();
collector.send('stop');

const acked = results.reduce((n, r) => n + r.acked, 0);
const elapsed = Math.max(...results.map((r) => r.elapsedMs));
const lat = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
const pct = (p: number): number => +(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN).toFixed(1);
const cpuS = ((after['cpuUserUs'] ?? 0) + (after['cpuSystemUs'] ?? 0) - (before['cpuUserUs'] ?? 0) - (before['cpuSystemUs'] ?? 0)) / 1e6;
const ingestRate = acked / (elapsed / 1000);

// Raw: the same kind of rows, committed through the same store in large transactions.
const { openSqliteStore } = (await import(new URL('collector/dist/store/sqlite-store.js', root).href)) as Store;
const raw = openSqliteStore(join(dir, 'raw.sqlite'));
const keys = generateSigningKeyPair();
const probeId = probeIdFromPublicKey(keys.publicKey);
raw.registerProbe(probeId, keys.publicKey, Date.now(), { asn: 0, cc: 'ZZ', networkName: '' });
const templates = new MeasurementTemplates(200, 1);
const rows = Number(values['raw-rows']);
const perTx = 5000;
const batchSize = Number(values.batch);
let made = 0;
let rawMs = 0;
let seq = 0;
while (made < rows) {
  const batches = [];
  for (let b = 0; b < perTx / batchSize; b += 1) {
    const ms = Array.from({ length: batchSize }, () => templates.make((made += 1), probeId, Date.now() - 1000));
    seq += 1;
    const sealed = sealBatch({ keys, probeId, sequence: seq, createdMs: Date.now(), measurements: ms });
    batches.push({
      probeId, sequence: seq, header: sealed.header as Uint8Array, signature: sealed.signature as Uint8Array, receivedMs: Date.now(),
      network: { asn: 0, cc: 'ZZ', networkName: '' },
      measurements: ms.map((m) => {
        const d = decodeMeasurement(m);
        if (!d.ok) throw d.error;
        return { id: d.value.id, raw: m, decoded: d.value };
      }),
    });
  }
  const t0 = performance.now();
  raw.commitBatches(batches);
  rawMs += performance.now() - t0;
}
raw.close();
const rawRate = made / (rawMs / 1000);
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({
  probes: Number(values.probes), workers, batch: batchSize, in_flight: Number(values['in-flight']), target_rate: Number(values.rate) || 'max',
  group_max: Number(values['group-max']), deflate: values.deflate,
  measurements_per_s: Math.round(ingestRate), acked, window_s: +(elapsed / 1000).toFixed(1),
  ack_p50_ms: pct(0.5), ack_p99_ms: pct(0.99), errors: results.reduce((n, r) => n + r.errors, 0),
  collector_peak_rss_mib: Math.round((after['maxRssKiB'] ?? 0) / 1024), collector_cpu_pct: Math.round((cpuS / (elapsed / 1000)) * 100),
  raw_sqlite_rows_per_s: Math.round(rawRate), ratio: +(ingestRate / rawRate).toFixed(2),
}, null, 1)}\n`);
process.exit(0);

function firstLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    lines.on('line', (line) => {
      const m = pattern.exec(line);
      if (m !== null) {
        lines.close();
        resolve(m[1] ?? line);
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}
