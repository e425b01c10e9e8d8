import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { decodeMeasurement, measurementToJson } from '@steppe/shared';
import {
  ByteWriter,
  JsonlWorkerPool,
  MeasurementTranscoder,
  UnsupportedSchemaError,
  buildTimeline,
  chunked,
  detectEpisodes,
  exportChunks,
  exportChunksParallel,
  exportLines,
  measurementJsonPlan,
  newCounter,
  openSqliteStore,
} from 'steppe-collector';

// Query figures on a database made by generate.js. Usage:
//   node bench/dist/bench/timeline/query.js --db /tmp/steppe-bench/bench.db [--export 100000] [--export-reference 20000]
const { values } = parseArgs({ options: {
  db: { type: 'string', default: '/tmp/steppe-bench/bench.db' },
  runs: { type: 'string', default: '15' },
  export: { type: 'string', default: '100000' },
  'export-reference': { type: 'string', default: '20000' },
} });
const runs = Number(values.runs);
const start = Date.UTC(2020, 11, 1);
const end = start + 30 * 86_400_000;
const opened = performance.now();
const store = await openSqliteStore(values.db, { cacheMiB: 256 });
process.stdout.write(`open (incl. pending migrations): ${(performance.now() - opened).toFixed(0)} ms, schema version ${await store.schemaVersion()}\n`);

async function measure(label: string, fn: () => Promise<number>): Promise<void> {
  const times: number[] = [];
  let size = 0;
  const cold = performance.now();
  size = await fn();
  const coldMs = performance.now() - cold;
  for (let i = 0; i < runs; i += 1) {
    const t = performance.now();
    size = await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number): string => (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(1);
  process.stdout.write(`${label}: first ${coldMs.toFixed(1)} ms, median ${q(0.5)} ms, p90 ${q(0.9)} ms (${size} items; load ${(loadavg()[0] ?? 0).toFixed(1)})\n`);
}

const total = await store.countMeasurements({});
const bytes = statSync(values.db).size;
process.stdout.write(`database: ${total} measurements, ${(bytes / 2 ** 30).toFixed(2)} GiB\n`);

await measure('timeline 30 d hourly, www.facebook.com, one strip per ASN', async () => {
  const tl = await buildTimeline(store, { since: start, until: end, grain: '1h', split: 'asn', domains: ['www.facebook.com'] });
  return tl.series.reduce((s, x) => s + x.buckets.length, 0);
});
await measure('timeline 30 d hourly, www.facebook.com, all ASNs in one strip', async () => {
  const tl = await buildTimeline(store, { since: start, until: end, grain: '1h', domains: ['www.facebook.com'] });
  return tl.series.reduce((s, x) => s + x.buckets.length, 0);
});
await measure('timeline 30 d daily, all 60 domains × all ASNs', async () => {
  const tl = await buildTimeline(store, { since: start, until: end, grain: '1d', split: 'domain_asn' });
  return tl.series.reduce((s, x) => s + x.buckets.length, 0);
});
await measure('episodes 30 d hourly, www.facebook.com, all ASNs (+ shutdowns)', async () => (await detectEpisodes(store, { since: start, until: end, grain: '1h', domains: ['www.facebook.com'] }, { nowMs: end })).length);
await measure('episodes 30 d hourly, blocking only, www.facebook.com', async () => (await detectEpisodes(store, { since: start, until: end, grain: '1h', domains: ['www.facebook.com'], kinds: ['blocking'] }, { nowMs: end })).length);
await measure('episodes 30 d hourly, all domains and ASNs', async () => (await detectEpisodes(store, { since: start, until: end, grain: '1h' }, { nowMs: end })).length);
await measure('episodes 1 day at 5 min, www.facebook.com', async () => (await detectEpisodes(store, { since: start + 5 * 86_400_000, until: start + 6 * 86_400_000, grain: '5m', domains: ['www.facebook.com'] }, { nowMs: end })).length);
await measure('list 100 newest, domain + ASN filter', async () => (await store.queryMeasurements({ domains: ['www.facebook.com'], probeAsns: [9198] }, { limit: 100 })).results.length);
await measure('list 100, input filter', async () => (await store.queryMeasurements({ inputs: ['https://site30.example.kz/'] }, { limit: 100 })).results.length);

const episodes = await detectEpisodes(store, { since: start, until: end, grain: '1h', domains: ['www.facebook.com', 'www.instagram.com', 'www.youtube.com', 'site01.example.kz'] }, { nowMs: end });
for (const e of episodes) {
  process.stdout.write(`  ${e.kind} AS${e.asn} ${e.domain ?? '*'} ${new Date(e.onsetMs).toISOString()} → ${new Date(e.endMs).toISOString()} probes=${e.probes} n=${e.measurements} types=${e.blockingTypes.join('/')} conf=${e.confidence}\n`);
}

// Export figures: each run 3 times, median reported with the load average
// (the machine is shared). "CPU" divides by this process's user+system time
// (every thread of it), the steadier figure when other jobs compete.
interface Run { rows: number; bytes: number; wallS: number; cpuS: number }
async function exportFigure(label: string, fn: () => Promise<{ rows: number; bytes: number }> | { rows: number; bytes: number }): Promise<void> {
  const runs: Run[] = [];
  const load = [loadavg()[0] ?? 0];
  for (let i = 0; i < 3; i += 1) {
    const cpu = process.cpuUsage();
    const t = performance.now();
    const { rows, bytes } = await fn();
    const wallS = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    runs.push({ rows, bytes, wallS, cpuS: (used.user + used.system) / 1e6 });
    load.push(loadavg()[0] ?? 0);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1] ?? 0;
  const wall = median(runs.map((r) => r.rows / r.wallS));
  const cpu = median(runs.map((r) => r.rows / r.cpuS));
  const first = runs[0] ?? { rows: 0, bytes: 0 };
  process.stdout.write(`${label}: median ${Math.round(wall)} measurements/s (wall), ${Math.round(cpu)}/s of CPU; runs ${runs.map((r) => Math.round(r.rows / r.wallS)).join(' / ')}; ${first.rows} rows, ${Math.round(first.bytes / first.rows)} B each, ${(first.bytes / 2 ** 20 / median(runs.map((r) => r.wallS))).toFixed(0)} MiB/s; load ${load.map((l) => l.toFixed(1)).join(' → ')}\n`);
}

// The first `count` measurements from day 10 on, as a time filter.
async function firstRows(count: number): Promise<{ since: number; until: number }> {
  const since = start + 10 * 86_400_000;
  let k = 0;
  for await (const r of store.iterateRecords({ since }, { pageSize: 10_000 })) {
    if ((k += 1) > count) return { since, until: r.startMs };
  }
  return { since, until: end };
}
const filter = await firstRows(Number(values.export));
const small = await firstRows(Number(values['export-reference']));
const plan = measurementJsonPlan();
if (plan instanceof UnsupportedSchemaError) throw plan;

await exportFigure('export, store only (rows + exact bytes + proofs)', async () => {
  let rows = 0;
  let bytes = 0;
  for await (const m of store.iterateMeasurements(filter, { pageSize: 2000, withProofs: true })) {
    rows += 1;
    bytes += m.raw.length;
  }
  return { rows, bytes };
});
for (const omitDefaults of [false, true]) {
  await exportFigure(`measurement JSON only (store + transcoder${omitDefaults ? ', defaults omitted' : ', = JSON.stringify(measurementToJson)'})`, async () => {
    const t = new MeasurementTranscoder(plan, { omitDefaults });
    const out = new ByteWriter();
    let rows = 0;
    let bytes = 0;
    for await (const m of store.iterateMeasurements(filter, { pageSize: 2000 })) {
      if (!t.writeMeasurementJson(out, m.raw)) throw new Error('transcoder gave up on a stored measurement');
      out.byte(10);
      rows += 1;
      if (out.pos >= 65_536) bytes += out.take().length;
    }
    return { rows, bytes: bytes + out.take().length };
  });
}
await exportFigure('JSONL export (Steppe schema, compact proofs), main thread: exportChunks', async () => {
  const counter = newCounter();
  let bytes = 0;
  for await (const chunk of exportChunks(store, filter, 'jsonl', counter)) bytes += chunk.length;
  return { rows: counter.rows, bytes };
});
for (const workers of [1, 2]) {
  const pool = new JsonlWorkerPool(workers);
  await exportFigure(`JSONL export, ${workers} worker thread${workers > 1 ? 's' : ''}: exportChunksParallel`, async () => {
    const counter = newCounter();
    let bytes = 0;
    for await (const chunk of exportChunksParallel(store, filter, 'jsonl', pool, counter)) bytes += chunk.length;
    return { rows: counter.rows, bytes };
  });
  await pool.close();
}
// Before: the reference paths, on fewer rows.
await exportFigure('before: JSON.stringify(measurementToJson(decode))', async () => {
  let rows = 0;
  let bytes = 0;
  for await (const m of store.iterateMeasurements(small, { pageSize: 2000 })) {
    const d = decodeMeasurement(m.raw);
    if (!d.ok) throw d.error;
    bytes += Buffer.byteLength(JSON.stringify(measurementToJson(d.value))) + 1;
    rows += 1;
  }
  return { rows, bytes };
});
await exportFigure('before: JSONL export via exportLines (decode, steppeJson, JSON.stringify)', async () => {
  const counter = newCounter();
  let bytes = 0;
  for await (const chunk of chunked(exportLines(store, small, 'jsonl', counter))) bytes += Buffer.byteLength(chunk);
  return { rows: counter.rows, bytes };
});

await store.close();
