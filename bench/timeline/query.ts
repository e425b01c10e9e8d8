import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeMeasurement, measurementToJson } from '@steppe/shared';
import { buildTimeline, detectEpisodes, openSqliteStore } from 'steppe-collector';

// Query figures on a database made by generate.js. Usage:
//   node bench/dist/bench/timeline/query.js --db /tmp/steppe-bench/bench.db [--export 300000]
const { values } = parseArgs({ options: {
  db: { type: 'string', default: '/tmp/steppe-bench/bench.db' },
  runs: { type: 'string', default: '15' },
  export: { type: 'string', default: '300000' },
} });
const runs = Number(values.runs);
const start = Date.UTC(2020, 11, 1);
const end = start + 30 * 86_400_000;
const opened = performance.now();
const store = openSqliteStore(values.db, { cacheMiB: 256 });
process.stdout.write(`open (incl. pending migrations): ${(performance.now() - opened).toFixed(0)} ms, schema version ${store.schemaVersion()}\n`);

function measure(label: string, fn: () => number): void {
  const times: number[] = [];
  let size = 0;
  const cold = performance.now();
  size = fn();
  const coldMs = performance.now() - cold;
  for (let i = 0; i < runs; i += 1) {
    const t = performance.now();
    size = fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number): string => (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(1);
  process.stdout.write(`${label}: first ${coldMs.toFixed(1)} ms, median ${q(0.5)} ms, p90 ${q(0.9)} ms (${size} items)\n`);
}

const total = store.countMeasurements({});
const bytes = statSync(values.db).size;
process.stdout.write(`database: ${total} measurements, ${(bytes / 2 ** 30).toFixed(2)} GiB\n`);

measure('timeline 30 d hourly, www.facebook.com, one strip per ASN', () => {
  const tl = buildTimeline(store, { since: start, until: end, grain: '1h', split: 'asn', domains: ['www.facebook.com'] });
  return tl.series.reduce((s, x) => s + x.buckets.length, 0);
});
measure('timeline 30 d hourly, www.facebook.com, all ASNs in one strip', () => {
  const tl = buildTimeline(store, { since: start, until: end, grain: '1h', domains: ['www.facebook.com'] });
  return tl.series.reduce((s, x) => s + x.buckets.length, 0);
});
measure('timeline 30 d daily, all 60 domains × all ASNs', () => {
  const tl = buildTimeline(store, { since: start, until: end, grain: '1d', split: 'domain_asn' });
  return tl.series.reduce((s, x) => s + x.buckets.length, 0);
});
measure('episodes 30 d hourly, www.facebook.com, all ASNs (+ shutdowns)', () => detectEpisodes(store, { since: start, until: end, grain: '1h', domains: ['www.facebook.com'] }, { nowMs: end }).length);
measure('episodes 30 d hourly, blocking only, www.facebook.com', () => detectEpisodes(store, { since: start, until: end, grain: '1h', domains: ['www.facebook.com'], kinds: ['blocking'] }, { nowMs: end }).length);
measure('episodes 30 d hourly, all domains and ASNs', () => detectEpisodes(store, { since: start, until: end, grain: '1h' }, { nowMs: end }).length);
measure('episodes 1 day at 5 min, www.facebook.com', () => detectEpisodes(store, { since: start + 5 * 86_400_000, until: start + 6 * 86_400_000, grain: '5m', domains: ['www.facebook.com'] }, { nowMs: end }).length);
measure('list 100 newest, domain + ASN filter', () => store.queryMeasurements({ domains: ['www.facebook.com'], probeAsns: [9198] }, { limit: 100 }).results.length);
measure('list 100, input filter', () => store.queryMeasurements({ inputs: ['https://site30.example.kz/'] }, { limit: 100 }).results.length);

const episodes = detectEpisodes(store, { since: start, until: end, grain: '1h', domains: ['www.facebook.com', 'www.instagram.com', 'www.youtube.com', 'site01.example.kz'] }, { nowMs: end });
for (const e of episodes) {
  process.stdout.write(`  ${e.kind} AS${e.asn} ${e.domain ?? '*'} ${new Date(e.onsetMs).toISOString()} → ${new Date(e.endMs).toISOString()} probes=${e.probes} n=${e.measurements} types=${e.blockingTypes.join('/')} conf=${e.confidence}\n`);
}

// Export: rows streamed from the store, then serialized as JSON Lines.
const limit = Number(values.export);
const filter = { since: start + 10 * 86_400_000 };
let n = 0;
let rawBytes = 0;
let t = performance.now();
for (const m of store.iterateMeasurements(filter, { pageSize: 5000 })) {
  rawBytes += m.raw.length;
  if ((n += 1) >= limit) break;
}
const iterS = (performance.now() - t) / 1000;
process.stdout.write(`export, store only (rows + exact bytes restored): ${Math.round(n / iterS)} measurements/s (${n}, ${(rawBytes / n).toFixed(0)} B each)\n`);
n = 0;
let out = 0;
t = performance.now();
for (const m of store.iterateMeasurements(filter, { pageSize: 5000 })) {
  const d = decodeMeasurement(m.raw);
  if (!d.ok) throw d.error;
  out += JSON.stringify(measurementToJson(d.value)).length + 1;
  if ((n += 1) >= limit) break;
}
const jsonS = (performance.now() - t) / 1000;
process.stdout.write(`export as JSONL via measurementToJson: ${Math.round(n / jsonS)} measurements/s (${n}, ${(out / n).toFixed(0)} chars each, ${(out / jsonS / 2 ** 20).toFixed(1)} MiB/s)\n`);

store.close();
