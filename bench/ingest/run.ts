import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { decodeMeasurement, generateSigningKeyPair, probeIdFromPublicKey, sealBatch } from '@steppe/shared';
import type { IncomingBatch } from 'steppe-collector';
import { RawSqlite } from './raw-sqlite.js';
import { MeasurementTemplates } from './templates.js';

// bench/ingest: one collector process (ingest + SqliteStore on a file in
// --dir, WAL, synchronous=FULL), --probes simulated probes spread over
// --workers load-generator processes, signed batches of realistic
// measurements over real WebSocket frames. Reports sustained measurements/s,
// p50/p99 send→Ack, the collector's peak RSS and CPU over the measured
// window (and the load generators' CPU, which shares the machine), then — in
// the same run, on the same disk — the raw rate of inserting the same rows
// into SQLite in large transactions (raw-sqlite.ts), and the ratio. Usage
// (after `npm run build` and the bench build, RESULTS.md):
//   node bench/dist/bench/ingest/run.js --probes 1000 --workers 2 --rate 0
// --collector-args passes node flags to the collector (e.g. --collector-args="--cpu-prof
// --cpu-prof-dir=/tmp/prof"); --out appends the JSON line to a file.
const { values } = parseArgs({ options: {
  probes: { type: 'string', default: '1000' }, workers: { type: 'string', default: '2' }, batch: { type: 'string', default: '50' },
  'in-flight': { type: 'string', default: '2' }, rate: { type: 'string', default: '0' }, 'duration-ms': { type: 'string', default: '15000' },
  'warmup-ms': { type: 'string', default: '5000' }, 'group-max': { type: 'string', default: '0' }, 'group-measurements': { type: 'string', default: '0' }, 'raw-rows': { type: 'string', default: '100000' },
  deflate: { type: 'boolean', default: false }, dir: { type: 'string' }, 'collector-args': { type: 'string', default: '' },
  out: { type: 'string' }, label: { type: 'string', default: '' },
} });
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'steppe-bench-ingest-'));
const here = new URL('.', import.meta.url);
const load0 = loadavg()[0] ?? 0;

const collectorArgs = (values['collector-args'] ?? '').split(' ').filter((a) => a !== '');
const collector = spawn(process.execPath, [...collectorArgs, new URL('collector.js', here).pathname, '--db', join(dir, 'ingest.sqlite'),
  ...(values['group-max'] === '0' ? [] : ['--group-max', values['group-max'] ?? '0']),
  ...(values['group-measurements'] === '0' ? [] : ['--group-measurements', values['group-measurements'] ?? '0']), ...(values.deflate ? [] : ['--no-deflate'])],
{ stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await firstLine(collector, /LISTENING (\d+)/);
const stats = (): Promise<Record<string, number>> => new Promise((resolve) => {
  collector.once('message', (m) => resolve(m as Record<string, number>));
  collector.send('stats');
});

const workers = Number(values.workers);
const perWorker = Math.ceil(Number(values.probes) / workers);
const warmupMs = Number(values['warmup-ms']);
const durationMs = Number(values['duration-ms']);
const children = Array.from({ length: workers }, (_, w) => spawn(process.execPath, [new URL('probe-worker.js', here).pathname,
  '--url', `ws://127.0.0.1:${port}`, '--probes', String(perWorker), '--batch', values.batch ?? '50', '--in-flight', values['in-flight'] ?? '2',
  '--rate', String(Number(values.rate) / workers), '--duration-ms', String(durationMs), '--warmup-ms', String(warmupMs),
  '--host', `127.0.${10 + w}.1`, '--seed', String(w + 1), ...(values.deflate ? ['--deflate'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] }));
await Promise.all(children.map((c) => firstLine(c, /READY/)));
interface WorkerResult { acked: number; elapsedMs: number; errors: number; cpuUs: number; latencies: number[] }
const results = Promise.all(children.map((c) => {
  const done = firstLine(c, /^(\{.*\})$/);
  c.stdin?.write('go\n');
  return done.then((line) => JSON.parse(line) as WorkerResult);
}));
// The collector's CPU and the load over the workers' measured window.
await sleep(warmupMs);
const before = await stats();
const wall0 = performance.now();
const loadStart = loadavg()[0] ?? 0;
await sleep(durationMs);
const after = await stats();
const wallS = (performance.now() - wall0) / 1000;
const loadEnd = loadavg()[0] ?? 0;
const worked = await results;
collector.send('stop');
await new Promise((resolve) => collector.once('exit', resolve));

const acked = worked.reduce((n, r) => n + r.acked, 0);
const elapsed = Math.max(...worked.map((r) => r.elapsedMs));
const lat = worked.flatMap((r) => r.latencies).sort((a, b) => a - b);
const pct = (p: number): number => +(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN).toFixed(1);
const cpuS = ((after['cpuUserUs'] ?? 0) + (after['cpuSystemUs'] ?? 0) - (before['cpuUserUs'] ?? 0) - (before['cpuSystemUs'] ?? 0)) / 1e6;
const workerCpuS = worked.reduce((n, r) => n + r.cpuUs, 0) / 1e6;
const ingestRate = acked / (elapsed / 1000);

// Raw: the same rows (columns + stored bytes), plain INSERTs in large transactions, same disk.
const rawRows = Number(values['raw-rows']);
const batchSize = Number(values.batch);
const rawBatches = makeBatches(rawRows, batchSize);
const rawCompact = new RawSqlite(join(dir, 'raw-compact.sqlite'), 'compact');
const rawCompactRate = rawCompact.measure(rawBatches, 5_000);
rawCompact.close();
const rawSigned = new RawSqlite(join(dir, 'raw-signed.sqlite'), 'signed');
const rawSignedRate = rawSigned.measure(rawBatches, 5_000);
rawSigned.close();
rmSync(dir, { recursive: true, force: true });

const line = JSON.stringify({
  label: values.label, probes: Number(values.probes), workers, batch: batchSize, in_flight: Number(values['in-flight']),
  target_rate: Number(values.rate) || 'max', group_max: Number(values['group-max']) || 'default', group_measurements: Number(values['group-measurements']) || 'default',
  deflate: values.deflate, collector_args: values['collector-args'],
  measurements_per_s: Math.round(ingestRate), acked, window_s: +(elapsed / 1000).toFixed(1),
  ack_p50_ms: pct(0.5), ack_p99_ms: pct(0.99), errors: worked.reduce((n, r) => n + r.errors, 0),
  collector_peak_rss_mib: Math.round((after['maxRssKiB'] ?? 0) / 1024), collector_cpu_pct: Math.round((cpuS / wallS) * 100),
  collector_cpu_us_per_measurement: +((cpuS * 1e6) / (ingestRate * wallS)).toFixed(1),
  workers_cpu_pct: Math.round((workerCpuS / (elapsed / 1000)) * 100),
  raw_sqlite_compact_rows_per_s: Math.round(rawCompactRate), raw_sqlite_signed_rows_per_s: Math.round(rawSignedRate),
  ratio: +(ingestRate / rawCompactRate).toFixed(2), ratio_signed: +(ingestRate / rawSignedRate).toFixed(2),
  load_start: +load0.toFixed(2), load_window: +((loadStart + loadEnd) / 2).toFixed(2),
});
process.stdout.write(`${line}\n`);
if (values.out !== undefined) appendFileSync(values.out, `${line}\n`);
process.exit(0);

/** Signed, decoded batches of the same realistic measurements, from one probe. */
function makeBatches(rows: number, size: number): IncomingBatch[] {
  const keys = generateSigningKeyPair();
  const probeId = probeIdFromPublicKey(keys.publicKey);
  const templates = new MeasurementTemplates(200, 1);
  const out: IncomingBatch[] = [];
  for (let made = 0, seq = 1; made < rows; seq += 1) {
    const ms = Array.from({ length: size }, () => Buffer.from(templates.make((made += 1), probeId, Date.now() - 1000)));
    const sealed = sealBatch({ keys, probeId, sequence: seq, createdMs: Date.now(), measurements: ms });
    out.push({
      probeId, sequence: seq, header: sealed.header as Uint8Array, signature: sealed.signature as Uint8Array, receivedMs: Date.now(),
      network: { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' },
      measurements: ms.map((m) => {
        const d = decodeMeasurement(m);
        if (!d.ok) throw d.error;
        return { id: d.value.id, raw: m, decoded: d.value };
      }),
    });
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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
